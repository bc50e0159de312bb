// keys.js: what a key press means in the composer and in a post's edit box (pure, tested).

/**
 * The composer's action for a keydown: 'send', 'edit-last', 'suggest-next', 'suggest-prev',
 * 'suggest-pick', 'suggest-close', or null (let the textarea handle it).
 * `ctx` = {empty: the composer holds no text, suggesting: the popup is open, ctrlEnter: the
 * "send with Ctrl+Enter" setting (then a plain Enter is a new line)}.
 */
export function composerAction(event, ctx) {
  if (event.isComposing || event.keyCode === 229) return null;
  const plain = !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey;
  if (ctx.suggesting) {
    if (event.key === 'ArrowDown' || (event.key === 'n' && event.ctrlKey)) return 'suggest-next';
    if (event.key === 'ArrowUp' || (event.key === 'p' && event.ctrlKey)) return 'suggest-prev';
    if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey) return 'suggest-pick';
    if (event.key === 'Escape') return 'suggest-close';
  }
  const sendKey = ctx.ctrlEnter ? event.ctrlKey || event.metaKey : plain || event.ctrlKey || event.metaKey;
  if (event.key === 'Enter' && sendKey && !event.shiftKey) return 'send';
  if (event.key === 'ArrowUp' && plain && ctx.empty) return 'edit-last';
  return null;
}

/** The edit box's action: 'save' (Enter), 'cancel' (Escape), or null (Shift+Enter: new line). */
export function editAction(event) {
  if (event.isComposing || event.keyCode === 229) return null;
  if (event.key === 'Escape') return 'cancel';
  if (event.key === 'Enter' && !event.shiftKey && !event.altKey) return 'save';
  return null;
}
