/** The Python service, started as `make run` would, trusting the given Better Auth. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startTaskApi(betterAuthUrl: string): Promise<{ baseUrl: string; stop: () => Promise<void> }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, BETTER_AUTH_URL: betterAuthUrl, PORT: String(port) };
  for (const name of ["DATABASE_URL", "BETTER_AUTH_SECRET", "JWT_JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE"]) delete env[name];
  env.EMBEDDED_DATABASE = "taskapi_e2e";
  const child: ChildProcess = spawn(`${root}.venv/bin/python`, ["-m", "taskapi.cli", "run"], {
    cwd: `${root}backend`,
    env,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const baseUrl = `http://127.0.0.1:${port}/api`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Task API exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${baseUrl}/openapi.json`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error("the Task API did not start within 60 s");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { baseUrl, stop };
}
