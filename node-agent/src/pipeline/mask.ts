// Masking (脱敏) of sensitive values: the rules live in common/ so that central's views of record values and
// the agent's pipeline can never disagree.
export { mask, parseMaskRule, type MaskRule } from '../../../common/src/mask.js';
