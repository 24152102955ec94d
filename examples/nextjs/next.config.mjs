/**
 * Next.js bundles server code, AI SDKs included, unless told not to. Keep tokenmeter and the
 * SDKs you want recorded as ordinary Node packages: loaded from node_modules at run time, where
 * tokenmeter's hooks see them (Turbopack and webpack alike). Bundled packages are recorded only
 * through instrument() (see app/api/*).
 * @type {import('next').NextConfig}
 */
const nextConfig = {
  serverExternalPackages: ['@tokenmeter/instrumentation', 'openai', 'ai'],
};

export default nextConfig;
