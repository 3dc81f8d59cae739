/** Reads and parses a YAML file, turning a missing file into a located FILE_NOT_FOUND. */
import { readFile } from "node:fs/promises";
import { ParseError, type SourceLocation } from "../errors.js";
import { parseYaml, type YamlSource } from "./yaml.js";
import { decodeSource } from "./yaml-checks.js";

/** `from` is where the file was named (an import, a vars_files entry), for the error's location. */
export async function readYamlFile(file: string, what: string, from?: SourceLocation): Promise<YamlSource> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new ParseError(
      "FILE_NOT_FOUND",
      code === "ENOENT" ? `${what} not found: ${file}` : `cannot read ${what} ${file} (${code})`,
      {
        location: from ?? { file },
        hint: from ? "paths are relative to the file that names them" : "check the path",
        cause,
      },
    );
  }
  return parseYaml(decodeSource(bytes, file), file);
}
