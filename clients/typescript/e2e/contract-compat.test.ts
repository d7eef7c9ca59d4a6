/** The breaking-change check fails on a breaking edit, and passes it once the major version is raised. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const contract = readFileSync(new URL("../../../openapi/openapi.yaml", import.meta.url), "utf8");

function check(text: string): number | null {
  const path = join(mkdtempSync(join(tmpdir(), "contract-")), "openapi.yaml");
  writeFileSync(path, text);
  const env = { ...process.env, CONTRACT: path };
  return spawnSync("npm", ["run", "-s", "contract:compat"], { env, stdio: "ignore" }).status;
}

// Dropping the `completed` value of the list's `status` filter breaks every client that sends it.
const breaking = contract.replace("enum: [all, pending, completed], default: all", "enum: [all, pending], default: all");

test("removing an enum value fails the check", () => {
  assert.notEqual(breaking, contract);
  assert.notEqual(check(breaking), 0);
});

test("the same edit passes once info.version's major number is raised", () => {
  assert.equal(check(breaking.replace(/^( {2}version: )1\.\d+\.\d+$/m, "$12.0.0")), 0);
});

// A minor version may add a kind of problem (documented on Problem.type); other response enums stay closed.
const problemKind = "            - urn:taskapi:problem:not-found\n";
const priority = "enum: [low, medium, high]";

test("adding a kind of problem passes; a value added to another answer's enum still fails", () => {
  assert.ok(contract.includes(problemKind) && contract.includes(priority));
  assert.equal(check(contract.replace(problemKind, problemKind + "            - urn:taskapi:problem:brand-new\n")), 0);
  assert.notEqual(check(contract.replaceAll(priority, "enum: [low, medium, high, urgent]")), 0);
});

test("the current contract passes", () => {
  assert.equal(check(contract), 0);
});
