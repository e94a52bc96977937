/**
 * The JSON form every result object gives from its `toJSON()`, so that
 * `JSON.stringify()` works on anything procmap returns (JSON has no bigint).
 *
 * The convention (README, "JSON"): a result is a class instance whose
 * `toJSON()` returns {@link jsonFields}`(this)`: its own fields, each bigint
 * as a `"0x"` hex string, a nested result (a `Vma`, a `SymbolInfo`) as its
 * own JSON, fields that are `undefined` left out (as `JSON.stringify` does).
 * A class, not a literal with a `toJSON` property: the method stays off the
 * object's own keys (spreading, `Object.keys` and equality see only fields),
 * and constructing one costs what a literal costs (a literal with
 * `__proto__` costs V8 about 20 times more).
 * @module
 */

/** A bigint as JSON gives it: `"0x"` and lowercase hex. */
export function hexJson(n: bigint): string {
  return "0x" + n.toString(16);
}

/** The JSON form of a value: bigints as hex strings, objects with `toJSON()` as their JSON, anything else as is. */
function jsonValue(v: unknown): unknown {
  if (typeof v === "bigint") return hexJson(v);
  if (typeof v === "object" && v !== null) {
    const toJSON = (v as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") return toJSON.call(v);
  }
  return v;
}

/** The own enumerable fields of a result as JSON (see the module's doc); arrays element by element. */
export function jsonFields(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[k];
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(jsonValue) : jsonValue(v);
  }
  return out;
}
