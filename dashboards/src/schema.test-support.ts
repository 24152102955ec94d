import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/**
 * JSON Schema (draft-07) from the foundation SDK's own TypeScript declarations.
 *
 * The npm package @grafana/grafana-foundation-sdk ships no JSON schema (only dist/**.js and
 * .d.ts; the jsonschema/ folder lives in its Git repository, not in the package). So the
 * schema is derived here from the types of the exact installed version, the way upstream
 * derives theirs from the same CUE sources: interfaces become objects with
 * additionalProperties false, enums and literal unions become enums, optional properties
 * are not required, Record<string, any> stays open, and a cog "variant" (Dataquery: any
 * plugin's query) is an open object.
 */
const require = createRequire(import.meta.url);
export const SDK_DIST = dirname(require.resolve('@grafana/grafana-foundation-sdk/dashboard')).replace(
  /\/dashboard$/,
  '',
);
export const SDK_VERSION: string = JSON.parse(readFileSync(join(SDK_DIST, '..', 'package.json'), 'utf8')).version;

type Schema = Record<string, unknown>;

export function schemaFor(module: string, typeName: string): Schema {
  const file = join(SDK_DIST, module, 'types.gen.d.ts');
  const program = ts.createProgram([file], { strict: true, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  if (!source) throw new Error(`cannot read ${file}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  const root = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === typeName);
  if (!root) throw new Error(`${module} exports no ${typeName}`);
  const definitions: Record<string, Schema> = {};
  const names = new Map<ts.Type, string>();

  const defName = (type: ts.Type): string | undefined => {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    const decl = symbol?.declarations?.[0];
    if (!symbol || !decl) return undefined;
    // Generic instantiations (Record<string, X>) and TypeScript's own lib types are inlined.
    if (type.aliasTypeArguments?.length) return undefined;
    if (!decl.getSourceFile().fileName.includes('grafana-foundation-sdk')) return undefined;
    if (!ts.isInterfaceDeclaration(decl) && !ts.isTypeAliasDeclaration(decl) && !ts.isEnumDeclaration(decl)) {
      return undefined;
    }
    const mod = decl.getSourceFile().fileName.split('/').slice(-2, -1)[0];
    return `${mod}.${symbol.name}`;
  };

  const isVariant = (type: ts.Type) =>
    checker.getPropertiesOfType(type).some((p) => /^_implements\w*Variant$/.test(p.name));

  const convert = (type: ts.Type): Schema => {
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (type.flags & ts.TypeFlags.String) return { type: 'string' };
    if (type.flags & ts.TypeFlags.Number) return { type: 'number' };
    if (type.flags & ts.TypeFlags.Boolean) return { type: 'boolean' };
    if (type.flags & ts.TypeFlags.Null) return { type: 'null' };
    if (type.isStringLiteral() || type.isNumberLiteral()) return { const: type.value };
    if (type.flags & ts.TypeFlags.BooleanLiteral) return { const: checker.typeToString(type) === 'true' };
    if (type.isUnion()) {
      const parts = type.types.filter((t) => !(t.flags & ts.TypeFlags.Undefined));
      const name = type.flags & ts.TypeFlags.EnumLiteral || type.aliasSymbol ? defName(type) : undefined;
      const build = (): Schema => {
        const literals = parts.filter((t) => t.isStringLiteral() || t.isNumberLiteral());
        if (literals.length === parts.length) {
          return { enum: literals.map((t) => (t as ts.LiteralType).value) };
        }
        const schemas = parts.map(convert);
        return schemas.length === 1 ? (schemas[0] as Schema) : { anyOf: schemas };
      };
      return name ? ref(type, name, build) : build();
    }
    if (checker.isArrayType(type) || checker.isTupleType(type)) {
      const [item] = checker.getTypeArguments(type as ts.TypeReference);
      return { type: 'array', items: item ? convert(item) : {} };
    }
    if (type.flags & ts.TypeFlags.Object) {
      if (type.getCallSignatures().length > 0) return {};
      if (isVariant(type)) return { type: 'object', additionalProperties: {} };
      const name = defName(type);
      return name ? ref(type, name, () => objectSchema(type)) : objectSchema(type);
    }
    return {};
  };

  const ref = (type: ts.Type, name: string, build: () => Schema): Schema => {
    if (!names.has(type)) {
      names.set(type, name);
      definitions[name] = {};
      definitions[name] = build();
    }
    return { $ref: `#/definitions/${name}` };
  };

  const objectSchema = (type: ts.Type): Schema => {
    const properties: Record<string, Schema> = {};
    const required: string[] = [];
    for (const prop of checker.getPropertiesOfType(type)) {
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      if (!decl) continue;
      const propType = checker.getTypeOfSymbolAtLocation(prop, decl);
      if (propType.getCallSignatures().length > 0) continue; // methods are not data
      properties[prop.name] = convert(propType);
      if (!(prop.flags & ts.SymbolFlags.Optional)) required.push(prop.name);
    }
    const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
    return {
      type: 'object',
      properties,
      ...(required.length ? { required } : {}),
      additionalProperties: index ? convert(index.type) : false,
    };
  };

  const rootType = checker.getDeclaredTypeOfSymbol(root);
  const top = convert(rootType);
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...top, definitions };
}
