/** Browser tests: Debian's Chromium (Playwright's own download cannot reach its host here) against the built app
 * and a real Task API, both started by scripts/stack.mjs on ports of their own. */
import { defineConfig } from "@playwright/test";

const WEB_PORT = "3100";
const API_PORT = "8100";

export const API_URL = `http://127.0.0.1:${API_PORT}/api`;
export const BASE_URL = `http://127.0.0.1:${WEB_PORT}`;

export default defineConfig({
  testDir: "tests",
  outputDir: "test-results",
  timeout: 90_000,
  expect: { timeout: 5_000 },
  // One stack serves every test; each test signs up people of its own (through Better Auth's endpoint: the sign-up
  // form itself is driven once, by the setup project, before the rest).
  workers: 1,
  projects: [
    { name: "sign-up", testMatch: /\.setup\.ts$/ },
    { name: "app", dependencies: ["sign-up"] },
  ],
  reporter: [["list"]],
  use: {
    baseURL: BASE_URL,
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "node scripts/stack.mjs",
    url: `http://127.0.0.1:${WEB_PORT}/sign-in`,
    timeout: 180_000,
    reuseExistingServer: !process.env.CI,
    stdout: "pipe",
    env: {
      WEB_PORT,
      API_PORT,
      EMBEDDED_DATABASE: "taskapi_web_test",
      AUTH_DATABASE: "web_auth_test",
      // Tokens live 15 s here (15 minutes in production): every test runs past several renewals.
      JWT_EXPIRATION_TIME: "15s",
      AUTH_RATE_LIMIT: "off",
    },
  },
});
