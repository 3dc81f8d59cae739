/**
 * The Ansible Vault 1.1 / 1.2 AES256 format, decrypted with node:crypto.
 *
 * A vault text is a header line (`$ANSIBLE_VAULT;1.1;AES256` or `$ANSIBLE_VAULT;1.2;AES256;label`)
 * then hex lines. The hex decodes to three hex lines: salt, HMAC-SHA256 and ciphertext.
 * PBKDF2-HMAC-SHA256 (10000 iterations) over the password and salt gives 80 bytes: the AES-256 key,
 * the HMAC key and the CTR counter block. The HMAC of the ciphertext is checked (in constant time)
 * before anything is decrypted; the plaintext carries PKCS#7 padding to 16 bytes.
 */
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";

export const VAULT_HEADER = "$ANSIBLE_VAULT";
const ITERATIONS = 10000;
const KEY_BYTES = 32;
const IV_BYTES = 16;

/** A parsed vault text: its label (1.2 only) and the three decoded parts. */
export interface VaultEnvelope {
  version: "1.1" | "1.2";
  label?: string;
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

/** Raised for a vault text that is not in the format (not for a wrong password). */
export class VaultFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "VaultFormatError";
  }
}

/** True when a text starts with the vault header (as Ansible checks files and `!vault` values). */
export function isVaultText(text: string): boolean {
  return text.trimStart().startsWith(VAULT_HEADER);
}

export function parseEnvelope(text: string): VaultEnvelope {
  const lines = text.trim().split(/\r?\n/);
  const header = lines[0].split(";").map((s) => s.trim());
  if (header[0] !== VAULT_HEADER) throw new VaultFormatError("the text does not start with $ANSIBLE_VAULT");
  const version = header[1];
  if (version !== "1.1" && version !== "1.2")
    throw new VaultFormatError(
      `vault format version ${version ?? "(none)"} is not supported (1.1 and 1.2 are)`,
    );
  if (header[2] !== "AES256")
    throw new VaultFormatError(`${header[2] ?? "(none)"} cipher could not be found`);
  const outer = unhex(lines.slice(1).join("").replace(/\s+/g, "")).toString("latin1");
  const parts = outer.split("\n");
  if (parts.length !== 3)
    throw new VaultFormatError("the vault body does not hold salt, HMAC and ciphertext");
  const [salt, hmac, ciphertext] = parts.map(unhex);
  return { version, label: version === "1.2" ? header[3] : undefined, salt, hmac, ciphertext };
}

function unhex(text: string): Buffer {
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text))
    throw new VaultFormatError("Vault format unhexlify error: the body is not hexadecimal");
  return Buffer.from(text, "hex");
}

/** The plaintext bytes, or undefined when the password does not match (the HMAC differs). */
export function decryptEnvelope(envelope: VaultEnvelope, password: Buffer): Buffer | undefined {
  const derived = pbkdf2Sync(password, envelope.salt, ITERATIONS, 2 * KEY_BYTES + IV_BYTES, "sha256");
  const aesKey = derived.subarray(0, KEY_BYTES);
  const hmacKey = derived.subarray(KEY_BYTES, 2 * KEY_BYTES);
  const iv = derived.subarray(2 * KEY_BYTES);
  const mac = createHmac("sha256", hmacKey).update(envelope.ciphertext).digest();
  if (mac.length !== envelope.hmac.length || !timingSafeEqual(mac, envelope.hmac)) return undefined;
  const decipher = createDecipheriv("aes-256-ctr", aesKey, iv);
  const padded = Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]);
  return unpad(padded);
}

function unpad(padded: Buffer): Buffer {
  const n = padded.length > 0 ? padded[padded.length - 1] : 0;
  if (n < 1 || n > 16 || n > padded.length) throw new VaultFormatError("the plaintext's padding is invalid");
  for (let i = padded.length - n; i < padded.length; i++)
    if (padded[i] !== n) throw new VaultFormatError("the plaintext's padding is invalid");
  return padded.subarray(0, padded.length - n);
}
