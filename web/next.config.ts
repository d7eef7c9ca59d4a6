import { fileURLToPath } from "node:url";

import type { NextConfig } from "next";

const config: NextConfig = {
  // The generated client is TypeScript source in this repository (clients/typescript, linked by a file:
  // dependency), not a built package: compile it with the app, and let the bundler see the repository root.
  transpilePackages: ["@taskapi/client"],
  turbopack: { root: fileURLToPath(new URL("..", import.meta.url)) },
  outputFileTracingRoot: fileURLToPath(new URL("..", import.meta.url)),
  // node-postgres is loaded as Node loads it, on the server only.
  serverExternalPackages: ["pg"],
  poweredByHeader: false,
};

export default config;
