/**
 * The smaps fields the kernel prints, in its order, for pmap.ts's -X and
 * -XX: the library gives each VMA's figures (known ones as properties,
 * new ones in `other`), the kernel's own text gives their order and units,
 * as procps pmap takes them from the first VMA it reads.
 * @module
 */
import { SMAPS_FIELDS, type SmapsEntry } from "../mod.ts";

/** One smaps field as the kernel prints it. */
export interface KernelField {
  /** The kernel's name, e.g. `Pss_Dirty`. */
  name: string;
  /** True when the kernel prints it in kB (the library then gives bytes). */
  kb: boolean;
}

/** The kernel's field layout: its figures in order, and whether it prints VmFlags. */
export interface SmapsLayout {
  fields: KernelField[];
  vmFlags: boolean;
}

/** Kernel names of the figures the library knows, and their properties. */
const KNOWN = SMAPS_FIELDS;

/** What pmap -X leaves out (procps' "unimportant" fields; -XX shows them, and VmFlags). */
const UNIMPORTANT: ReadonlySet<string> = new Set([
  "AnonHugePages",
  "KernelPageSize",
  "MMUPageSize",
  "Shared_Dirty",
  "Private_Dirty",
  "Shared_Clean",
  "Private_Clean",
]);

/**
 * The layout of the first VMA of an smaps text (every VMA gets the same
 * fields from one kernel): the lines after the first maps line, up to the
 * next one.
 */
export function parseLayout(text: string): SmapsLayout {
  const fields: KernelField[] = [];
  let vmFlags = false;
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    // Field names start with an uppercase letter; the next VMA's maps line with a hex digit.
    if (!/^[A-Z]/.test(line)) break;
    const colon = line.indexOf(":");
    if (colon < 0) break;
    const name = line.slice(0, colon);
    if (name === "VmFlags") vmFlags = true;
    else fields.push({ name, kb: line.endsWith(" kB") });
  }
  return { fields, vmFlags };
}

/** The layout from the library's own view (when the kernel's text is not at hand): known fields only. */
export function knownLayout(entry: SmapsEntry | undefined): SmapsLayout {
  const fields: KernelField[] = [];
  for (const [name, prop] of KNOWN) {
    if (entry?.[prop] !== undefined) fields.push({ name, kb: name !== "THPeligible" && name !== "ProtectionKey" });
  }
  return { fields, vmFlags: entry?.vmFlags !== undefined };
}

/** One column of pmap -X/-XX: its title and each entry's value as pmap prints it (kB for sizes). */
export interface Column {
  title: string;
  /** The value shown, or undefined when the entry lacks it (printed as 0, as pmap does). */
  value(e: SmapsEntry): number | string | undefined;
}

/** The columns pmap -X (`all` false) or -XX (`all` true) shows, in the kernel's order. */
export function smapsColumns(layout: SmapsLayout, all: boolean): Column[] {
  return layout.fields.filter((f) => all || !UNIMPORTANT.has(f.name)).map((f) => {
    const prop = KNOWN.get(f.name);
    const raw = prop !== undefined
      ? (e: SmapsEntry) => e[prop] as number | undefined
      : (e: SmapsEntry) => e.other?.[f.name];
    return {
      title: f.name,
      value: (e: SmapsEntry) => {
        const v = raw(e);
        return typeof v === "number" && f.kb ? v / 1024 : v;
      },
    };
  });
}
