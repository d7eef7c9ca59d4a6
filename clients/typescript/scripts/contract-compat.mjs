// The contract must not break clients generated from the released one: Optic's breaking-change rules compare
// openapi/openapi.yaml with openapi/released/<version>.yaml, unless info.version's major number was raised.
// CONTRACT and RELEASED override the two paths (the test of this check uses them).
//
// One policy of ours is looser than Optic: a minor version may add a kind of problem (a value of
// Problem.type, documented there: clients branch on the ones they know and treat others by status). Optic
// counts any new response enum value as breaking, so the released contract is compared with today's kinds
// added to its list. Every other enum of an answer stays closed.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const contract = process.env.CONTRACT ?? join(root, "openapi/openapi.yaml");
const releasedDir = join(root, "openapi/released");
const newestRelease = readdirSync(releasedDir)
  .filter((name) => name.endsWith(".yaml"))
  .sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
  .at(-1);
const released = process.env.RELEASED ?? join(releasedDir, newestRelease);

/** info.version, read from the top of the file: `info:` is followed by its indented keys. */
function version(path) {
  const match = readFileSync(path, "utf8").match(/^info:\n(?:[ ]{2}.*\n)*?[ ]{2}version: *["']?([\d.]+)/m);
  if (!match) throw new Error(`${path}: no info.version`);
  return match[1];
}

const [before, after] = [version(released), version(contract)];
const major = (v) => Number(v.split(".")[0]);
if (major(after) > major(before)) {
  console.log(`contract ${after} raises the major version of ${before}: breaking changes are allowed`);
  process.exit(0);
}
/** The released contract, with the problem kinds the current one adds (see the policy above). */
function releasedWithTodaysProblemKinds() {
  const [old, current] = [released, contract].map((path) => parse(readFileSync(path, "utf8")));
  const kinds = (spec) => spec.components.schemas.Problem.properties.type.enum;
  kinds(old).push(...kinds(current).filter((kind) => !kinds(old).includes(kind)));
  const path = join(mkdtempSync(join(tmpdir(), "released-")), "openapi.json");
  writeFileSync(path, JSON.stringify(old));
  return path;
}

const optic = spawnSync("optic", ["diff", releasedWithTodaysProblemKinds(), contract, "--check"], {
  stdio: "inherit",
  shell: false,
});
if (optic.status !== 0) {
  console.error(
    `\nThe contract (${after}) breaks clients of ${before}: undo the change, or raise info.version's major number.`,
  );
}
process.exit(optic.status ?? 1);
