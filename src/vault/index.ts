/** Ansible Vault: the format (cipher.ts), the run's keyring and vaulted values (keyring.ts), password sources. */
export { isVaultText, VAULT_HEADER } from "./cipher.js";
export {
  currentKeyring,
  openVaultFile,
  VaultKeyring,
  type VaultSecret,
  VaultValue,
  withVault,
} from "./keyring.js";
export { loadVaultSecrets, type VaultSources } from "./sources.js";
