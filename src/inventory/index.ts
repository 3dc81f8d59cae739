/** The inventory layer: loading, host patterns, variable precedence and connection variables. */
export { connectionSettings, SECRET_VARS, secretValues } from "./connection-vars.js";
export { emptyInventory, ensureImplicitLocalhost, LOCALHOST_NAMES } from "./group-tree.js";
export { type InventorySource, type LoadInventoryOptions, loadInventory } from "./load.js";
export { hostsOfGroup, limitHosts, selectHosts, splitPattern } from "./patterns.js";
export type { Inventory, InventoryGroup, InventoryHost } from "./types.js";
export { inventoryVars, magicVars, resolveVars, type VarLayers } from "./vars.js";
