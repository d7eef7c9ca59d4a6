/**
 * Everything the reference app needs, on this machine: the Task API (`make run`: embedded Postgres, JWKS mode
 * trusting this app's Better Auth, CORS open to it), a database for Better Auth in the same cluster, and the
 * built app (`next start`). `make web` and the browser tests start it; Ctrl-C or SIGTERM stops both.
 *
 * WEB_PORT (3000) and API_PORT (8000) choose the ports; EMBEDDED_DATABASE and AUTH_DATABASE the databases.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const web = fileURLToPath(new URL("../", import.meta.url));
const python = `${root}.venv/bin/python`;
const webPort = process.env.WEB_PORT ?? "3000";
const apiPort = process.env.API_PORT ?? "8000";
const appUrl = `http://127.0.0.1:${webPort}`;
const apiUrl = `http://127.0.0.1:${apiPort}/api`;

/** A random secret kept in .data/ (never in the repository), made on first use. */
function localSecret(name) {
  const path = `${root}.data/${name}`;
  if (!existsSync(path)) {
    mkdirSync(`${root}.data`, { recursive: true });
    writeFileSync(path, randomBytes(36).toString("base64url"), { mode: 0o600 });
  }
  return readFileSync(path, "utf8").trim();
}

async function waitFor(url, what, child) {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not start within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const children = [];
function stop() {
  for (const child of children.reverse()) if (child.exitCode === null) child.kill("SIGTERM");
}
process.on("SIGINT", () => (stop(), process.exit(130)));
process.on("SIGTERM", () => (stop(), process.exit(143)));

const apiEnv = { ...process.env, BETTER_AUTH_URL: appUrl, CORS_ORIGINS: appUrl, PORT: apiPort };
for (const name of ["DATABASE_URL", "BETTER_AUTH_SECRET", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"]) delete apiEnv[name];
const api = spawn(python, ["-m", "taskapi.cli", "run"], { cwd: `${root}backend`, env: apiEnv, stdio: ["ignore", "ignore", "pipe"] });
children.push(api);
// The API logs a JSON line per request on stderr; pass on what is worth reading here (warnings, errors, start-up).
let partial = "";
api.stderr.setEncoding("utf8").on("data", (chunk) => {
  const lines = (partial + chunk).split("\n");
  partial = lines.pop() ?? "";
  for (const line of lines) if (!line.includes('"level":"info"')) process.stderr.write(`${line}\n`);
});
await waitFor(`${apiUrl}/healthz`, "the Task API", api);

// Better Auth's own database, beside the API's in the cluster the API started.
const made = spawnSync(
  python,
  ["-W", "ignore", "-c", "import sys; from taskapi.db.embedded import embedded_database; print(embedded_database(sys.argv[1]))", process.env.AUTH_DATABASE ?? "web_auth"],
  { cwd: `${root}backend`, encoding: "utf8" },
);
if (made.status !== 0) throw new Error(`could not make Better Auth's database: ${made.stderr}`);
const authDatabaseUrl = made.stdout.trim().split("\n").at(-1);

const app = spawn(`${web}node_modules/.bin/next`, ["start", "--hostname", "127.0.0.1", "--port", webPort], {
  cwd: web,
  env: {
    ...process.env,
    AUTH_DATABASE_URL: authDatabaseUrl,
    BETTER_AUTH_URL: appUrl,
    BETTER_AUTH_SECRET: process.env.BETTER_AUTH_SECRET ?? localSecret("web-auth-secret"),
    TASK_API_URL: apiUrl,
  },
  stdio: ["ignore", "inherit", "inherit"],
});
children.push(app);
await waitFor(`${appUrl}/sign-in`, "the app", app);
console.log(`\nThe reference app is on ${appUrl}  (Task API on ${apiUrl})\n`);
app.on("exit", (code) => (stop(), process.exit(code ?? 1)));
api.on("exit", (code) => (stop(), process.exit(code ?? 1)));
