export { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "../modules/isolation/cpus.js";
export { checkExpression, evaluate, evaluateCondition } from "./expression.js";
export { OMIT_TOKEN, removeOmit } from "./omit.js";
export { checkTemplate, isTemplate, renderString, renderTemplateFile } from "./render.js";
export { renderValue } from "./render-value.js";
