/** A dated snapshot of a model alias: gpt-4o-mini-2024-07-18, claude-3-5-sonnet-20241022. */
export const DATE_SUFFIX = /-20\d{2}-?\d{2}-?\d{2}$/;

/**
 * The alias of a dated snapshot (gpt-4o-mini-2024-07-18 → gpt-4o-mini), else the model itself.
 * One rule for everything that names a model by its alias: budgets and price overrides.
 */
export function modelAlias(model: string): string {
  const last = model.charCodeAt(model.length - 1);
  if (!(last >= 48 && last <= 57)) return model;
  return model.replace(DATE_SUFFIX, '');
}
