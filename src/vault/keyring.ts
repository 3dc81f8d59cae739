/**
 * The vault secrets of one run, and the values they unlock.
 *
 * A `!vault` value stays encrypted (a VaultValue) until a template or a connection setting reads
 * it, as in Ansible: an unused value needs no password. The keyring remembers every plaintext it
 * gave out so that the run scrubs them from every event.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ParseError, type SourceLocation, TicklessError } from "../errors.js";
import { decryptEnvelope, isVaultText, parseEnvelope, VaultFormatError } from "./cipher.js";

/** One password and the vault id (label) it was given for; `default` when none was named. */
export interface VaultSecret {
  id: string;
  password: Buffer;
}

/** The flags that name no vault secret, for the hint of a "no vault secrets" error. */
const NO_SECRET_HINT = "pass --vault-password-file FILE, --vault-id [label@]FILE or --ask-vault-pass";

export class VaultKeyring {
  readonly secrets: readonly VaultSecret[];
  /** Every plaintext handed out (and each of its lines), for scrubbing output. */
  readonly revealed = new Set<string>();
  /** The string values of whole encrypted files, scrubbed where they stand alone as words. */
  readonly revealedWords = new Set<string>();

  constructor(secrets: readonly VaultSecret[] = []) {
    this.secrets = secrets;
  }

  /**
   * Decrypts a vault text: the secret whose id matches the text's label first, then the others
   * (Ansible's default, vault_id_match off). Errors are located at `where`, and never quote the text.
   */
  decrypt(text: string, where: SourceLocation): string {
    return this.remember(this.decryptBytes(text, where).toString("utf8"));
  }

  /** decrypt for files that may hold bytes (copy's src): the plaintext as bytes, remembered as text. */
  decryptFile(bytes: Buffer, file: string): Buffer {
    // Ansible's words for a task's encrypted source when no password was given (its loader's)
    if (this.secrets.length === 0) {
      throw new TicklessError("TASK", `A vault password or secret must be specified to decrypt ${file}`);
    }
    const plain = this.decryptBytes(bytes.toString("latin1"), { file });
    this.remember(plain.toString("utf8"));
    return plain;
  }

  private decryptBytes(text: string, where: SourceLocation): Buffer {
    let envelope: ReturnType<typeof parseEnvelope>;
    try {
      envelope = parseEnvelope(text);
    } catch (err) {
      if (!(err instanceof VaultFormatError)) throw err;
      throw new ParseError("VAULT", `There was a vault format error: ${err.message}`, {
        location: where,
        hint: "re-create the value with ansible-vault encrypt_string, or the file with ansible-vault encrypt",
      });
    }
    if (this.secrets.length === 0) {
      throw new ParseError("VAULT", "Attempting to decrypt but no vault secrets found", {
        location: where,
        hint: NO_SECRET_HINT,
      });
    }
    const ordered = [
      ...this.secrets.filter((s) => s.id === envelope.label),
      ...this.secrets.filter((s) => s.id !== envelope.label),
    ];
    for (const secret of ordered) {
      let plain: Buffer | undefined;
      try {
        plain = decryptEnvelope(envelope, secret.password);
      } catch {
        plain = undefined;
      }
      if (plain !== undefined) return plain;
    }
    const label = envelope.label ? ` (vault id "${envelope.label}")` : "";
    throw new ParseError("VAULT", "Decryption failed (no vault secrets were found that could decrypt)", {
      location: where,
      hint: `none of the ${this.secrets.length} vault password(s) given opens it${label}; check --vault-password-file / --vault-id`,
    });
  }

  /** Marks the strings of a decrypted file's data as secrets too (a vars file's values). */
  markSecret(value: unknown): void {
    if (typeof value === "string" && value.trim().length >= 3) this.revealedWords.add(value);
    else if (Array.isArray(value)) for (const v of value) this.markSecret(v);
    else if (value !== null && typeof value === "object")
      for (const v of Object.values(value)) this.markSecret(v);
  }

  private remember(plain: string): string {
    this.revealed.add(plain);
    for (const line of plain.split(/\r?\n/)) if (line.trim().length >= 3) this.revealed.add(line);
    return plain;
  }
}

/** A controller file's bytes, decrypted when ansible-vault encrypted it (copy and template sources). */
export function openVaultFile(bytes: Buffer, file: string): Buffer {
  const head = bytes.subarray(0, 64).toString("latin1");
  return isVaultText(head) ? currentKeyring().decryptFile(bytes, file) : bytes;
}

/**
 * A `!vault` scalar: the vault text, where it was written, and the keyring of the run that loaded
 * it. `reveal()` decrypts on first use and keeps the plaintext private to this object.
 */
export class VaultValue {
  readonly where: SourceLocation;
  readonly #text: string;
  readonly #keyring: VaultKeyring;
  #plain?: string;

  constructor(text: string, where: SourceLocation, keyring: VaultKeyring) {
    this.#text = text;
    this.where = where;
    this.#keyring = keyring;
  }

  reveal(): string {
    this.#plain ??= this.#keyring.decrypt(this.#text, this.where);
    return this.#plain;
  }

  /** Used as a string, a vaulted value is its plaintext (as in Ansible). */
  toString(): string {
    return this.reveal();
  }
}

const current = new AsyncLocalStorage<VaultKeyring>();
const EMPTY = new VaultKeyring();

/** Runs `fn` with `keyring` as the keyring of every YAML file loaded inside it (one run's loads). */
export function withVault<T>(keyring: VaultKeyring, fn: () => T): T {
  return current.run(keyring, fn);
}

/** The keyring of the loads under way: the run's, or one with no secrets. */
export function currentKeyring(): VaultKeyring {
  return current.getStore() ?? EMPTY;
}
