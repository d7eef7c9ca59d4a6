// The client sends each query parameter as the contract says: the parameters it joins with commas are exactly the
// contract's `style: form, explode: false` ones, and a list of kinds reaches the API as one value.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";

import { COMMA_SEPARATED, serializeQuery } from "../src/index.ts";

test("the comma-separated parameters are the contract's explode: false ones", () => {
  const contract = parse(readFileSync(new URL("../../../openapi/openapi.yaml", import.meta.url), "utf8"));
  const declared = new Set<string>();
  const visit = (parameters: { in?: string; name?: string; explode?: boolean; $ref?: string }[] = []) => {
    for (const parameter of parameters) {
      const resolved = parameter.$ref ? contract.components.parameters[parameter.$ref.split("/").at(-1)!] : parameter;
      if (resolved.in === "query" && resolved.explode === false) declared.add(resolved.name);
    }
  };
  for (const item of Object.values(contract.paths) as Record<string, { parameters?: [] }>[]) {
    for (const operation of Object.values(item)) visit((operation as { parameters?: [] }).parameters);
  }
  assert.deepEqual([...COMMA_SEPARATED].sort(), [...declared].sort());
});

test("kinds go as one value, tags as one parameter each", () => {
  assert.equal(serializeQuery({ kinds: ["task", "list"], tag: ["a b", "c"], limit: 5, since: undefined }), "kinds=task,list&tag=a%20b&tag=c&limit=5");
});
