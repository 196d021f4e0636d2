// The alert-rule domain: rule files, validation, default rules and the evaluation engine.
export type * from "./types.js";
export { RuleEngine, type RuleEngineOptions } from "./engine.js";
export { loadRuleFiles, parseRuleFile, combineRules, type RuleLoadResult } from "./rule-loader.js";
export { validateRule, RULE_KINDS, type RuleProblem } from "./rule-schema.js";
export { defaultRules, DEFAULT_RULES_YAML, DEFAULT_RULE_NAMES } from "./defaults.js";
export { compileMatchers, patternProblem, type SeriesMatcher } from "./matchers.js";
