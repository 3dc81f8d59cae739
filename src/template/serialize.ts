/** JSON and YAML text as Ansible's to_json / to_yaml filters write it (Python's json and PyYAML). */
import { Document, isCollection, isScalar, visit } from "yaml";

/** Python's json.dumps: ", " and ": " separators ("," when indented), non-ASCII escaped. */
export function pyJson(value: unknown, indent?: unknown, sortKeys = false): string {
  const width = indent === undefined || indent === null ? undefined : Number(indent);
  const write = (v: unknown, depth: number): string => {
    if (v === undefined || v === null) return "null";
    if (typeof v === "string")
      return JSON.stringify(v).replace(
        /[\u007f-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      );
    if (typeof v !== "object") return JSON.stringify(v);
    const entries = Array.isArray(v)
      ? v.map((item) => write(item, depth + 1))
      : (sortKeys ? Object.keys(v).sort() : Object.keys(v)).map(
          (k) => `${write(k, depth + 1)}: ${write((v as Record<string, unknown>)[k], depth + 1)}`,
        );
    const [open, close] = Array.isArray(v) ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) return open + close;
    if (width === undefined) return open + entries.join(", ") + close;
    const pad = " ".repeat(width * (depth + 1));
    return `${open}\n${pad}${entries.join(`,\n${pad}`)}\n${" ".repeat(width * depth)}${close}`;
  };
  return write(value, 0);
}

/**
 * PyYAML's dump as Ansible calls it: to_yaml writes collections of scalars in flow style
 * (`{a: 1}`, `[1, 2]`), to_nice_yaml writes block style with a wider indent.
 */
export function pyYaml(value: unknown, nice: boolean, indent = 2): string {
  const doc = new Document(value);
  if (!nice) {
    visit(doc, {
      Collection(_key, node) {
        if (
          isCollection(node) &&
          node.items.every((item) =>
            isScalar(item) ? true : isScalar((item as any).value) || (item as any).value === null,
          )
        )
          node.flow = true;
      },
    });
  }
  return doc.toString({ indent, indentSeq: false, lineWidth: 0, flowCollectionPadding: false });
}
