/**
 * A chat body that came from a client speaking Anthropic's Messages API carries the client's own
 * request under this key. An Anthropic upstream is sent that request unchanged (thinking
 * signatures, `cache_control`, every field), and its answer goes back unchanged; any other
 * upstream gets the chat translation.
 */
export const NATIVE_MESSAGES = Symbol.for('maas.anthropic.messages');

/** the client's own Messages request, when the body carries one */
export function nativeMessages(
  body: Record<string | symbol, unknown> | null | undefined,
): Record<string, unknown> | null {
  const native = body?.[NATIVE_MESSAGES];
  return native && typeof native === 'object' ? (native as Record<string, unknown>) : null;
}
