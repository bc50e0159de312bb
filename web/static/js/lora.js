// lora.js: what the UI shows of LoRa, as pure functions (tested in web/tests/): the 📡 mark
// of a post that came or left by radio (`post.lora`, docs/api.md), the boats reachable only
// by LoRa, and a radio's line in the fleet panel (airtime this hour against the duty budget).

/** The mark shown on a post that crossed the radio. */
export const LORA_MARK = '📡';

/**
 * The mark of `post.lora` ({direction: 'in'|'out', hops}), or null when the post did not
 * cross the radio: {text, key, count} where `key` is the i18n key of its title (counted by
 * hops for 'in').
 */
export function loraMark(lora) {
  if (!lora || typeof lora !== 'object') return null;
  const hops = Number.isInteger(lora.hops) && lora.hops >= 0 ? lora.hops : 0;
  if (lora.direction === 'in') return { text: `${LORA_MARK} ${hops}`, key: 'lora.in', count: hops };
  if (lora.direction === 'out') return { text: LORA_MARK, key: 'lora.out', count: 0 };
  return null;
}

/** The boats (not this one) reachable only by LoRa. */
export function loraOnlyBoats(boats) {
  return (boats || []).filter((b) => b && b.lora_only && !b.me);
}

/** Share of the hourly duty budget a radio used, in whole percent (0–100). */
export function airtimePercent(radio) {
  const used = Number(radio && radio.airtime_ms_this_hour) || 0;
  const budget = Number(radio && radio.duty_budget_ms) || 0;
  if (budget <= 0) return used > 0 ? 100 : 0;
  return Math.min(100, Math.round((used * 100) / budget));
}

/** Milliseconds as seconds with one decimal ("12.3"). */
export function seconds(ms) {
  return ((Number(ms) || 0) / 1000).toFixed(1);
}
