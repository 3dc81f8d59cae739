/** The playbook loader's public surface. */

export { taskTimeArgFailure } from "./arg-failures.js";
export { parseExtraVars } from "./extra-vars.js";
export {
  type IncludedRoleFiles,
  type Loaded,
  type LoadOptions,
  loadIncludedRole,
  loadPlaybook,
  loadTaskFile,
  PlaybookErrors,
  type RunTimeLoadOptions,
  type ValidationResult,
  validateIncludedRole,
  validatePlaybook,
  validateTaskFile,
} from "./load.js";
export { coerceRenderedArgs, detectModule, validateModuleArgs, writtenArgs } from "./module-args.js";
export { defaultRolesPath, splitPathList } from "./roles.js";
export { checkPlaybook, checkTaskNodes, type RuleFindings, walkNodes } from "./rules.js";
export type * from "./types.js";
export { loadVarsFile } from "./vars-file.js";
export { parseYaml, type YamlPath, type YamlSource } from "./yaml.js";
