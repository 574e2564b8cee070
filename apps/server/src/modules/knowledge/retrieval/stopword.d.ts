/** The part of `stopword` (no bundled types) the tokenizer uses: its stop-word lists. */
declare module 'stopword' {
  export const eng: string[];
  export const zho: string[];
}
