/**
 * The template module's `output_encoding`: the rendered text written in another character set,
 * as Python's `str.encode(name, 'strict')` would (iconv-lite does the encoding). Python's codec
 * names are matched without case, `_` read as `-`; a character the encoding cannot hold fails
 * the task, as Python's strict errors do. iconv-lite (half a megabyte of code and tables) loads
 * when a template asks for an encoding other than UTF-8, not with every run.
 */

/** Python's names of the encodings tickless writes (aliases → iconv-lite's name). */
const CODECS: Record<string, string> = {
  "utf-8": "utf8",
  utf8: "utf8",
  u8: "utf8",
  "latin-1": "latin1",
  latin1: "latin1",
  l1: "latin1",
  "iso-8859-1": "latin1",
  "iso8859-1": "latin1",
  "iso-8859-15": "iso885915",
  "iso8859-15": "iso885915",
  cp1252: "win1252",
  "windows-1252": "win1252",
  ascii: "ascii",
  "us-ascii": "ascii",
};

/** The bytes of `text` in `encoding` ("" or none: UTF-8); throws Python's words when it cannot. */
export async function encodeOutput(text: string, encoding: string | undefined): Promise<Buffer> {
  const name = (encoding || "utf-8").toLowerCase().replace(/_/g, "-");
  const codec = CODECS[name];
  if (!codec) {
    throw new Error(
      `LookupError: unknown encoding: ${encoding} (tickless writes ${Object.keys(CODECS).join(", ")})`,
    );
  }
  if (codec === "utf8") return Buffer.from(text);
  const { default: iconv } = await import("iconv-lite");
  const bytes = iconv.encode(text, codec);
  const back = iconv.decode(bytes, codec);
  if (back !== text) {
    const chars = [...text];
    const at = chars.findIndex((c, i) => [...back][i] !== c);
    const c = chars[at] ?? "";
    const code = `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;
    const why: Record<string, string> = {
      ascii: "'ascii' codec can't encode character '%s' in position %d: ordinal not in range(128)",
      latin1: "'latin-1' codec can't encode character '%s' in position %d: ordinal not in range(256)",
    };
    const words =
      why[codec] ??
      "'charmap' codec can't encode character '%s' in position %d: character maps to <undefined>";
    throw new Error(words.replace("%s", code).replace("%d", String(at)));
  }
  return bytes;
}
