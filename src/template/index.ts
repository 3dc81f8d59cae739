export { cpuListToMask, formatCpuList, maskToCpuList, parseCpuList } from "./cpus.js";
export { checkExpression, evaluate, evaluateCondition } from "./expression.js";
export { checkTemplate, isTemplate, renderString, renderTemplateFile, renderValue } from "./render.js";
