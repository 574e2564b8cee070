import type { FormatCallback } from 'html-to-text';

// The parsers of the binary formats (~60 MB resident together) load when a file of theirs comes.

/** A document that cannot be read: `code` is OpenAI's last_error code. */
export class ParseError extends Error {
  override name = 'ParseError';
  constructor(
    readonly code: 'unsupported_file' | 'invalid_file',
    message: string,
  ) {
    super(message);
  }
}

const TEXT_EXTENSIONS = new Set([
  'txt',
  'md',
  'markdown',
  'rst',
  'json',
  'jsonl',
  'xml',
  'yaml',
  'yml',
  'log',
  'tex',
  'py',
  'js',
  'ts',
  'java',
  'c',
  'cpp',
  'h',
  'go',
  'rs',
  'rb',
  'php',
  'sh',
  'css',
  'sql',
]);

export const SUPPORTED = ['pdf', 'docx', 'html', 'htm', 'csv', 'tsv', 'xlsx', ...TEXT_EXTENSIONS];

const extensionOf = (filename: string) => {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
};

/** The document's text, by the filename's extension (txt, md, html, pdf, docx, csv, xlsx …). */
export async function parseDocument(filename: string, bytes: Buffer): Promise<string> {
  const ext = extensionOf(filename);
  try {
    switch (ext) {
      case 'pdf':
        return await parsePdf(bytes);
      case 'docx':
        return (await (await import('mammoth')).default.extractRawText({ buffer: bytes })).value;
      case 'html':
      case 'htm':
        return (await import('html-to-text')).convert(decodeText(bytes), {
          wordwrap: false,
          // headings as markdown's, so that the heading splitter finds them
          formatters: { mdHeading: markdownHeading },
          selectors: [
            { selector: 'img', format: 'skip' },
            ...[1, 2, 3, 4, 5, 6].map((n) => ({
              selector: `h${n}`,
              format: 'mdHeading',
              options: { level: n },
            })),
          ],
        });
      case 'csv':
      case 'tsv':
        // papaparse is loaded by the first CSV, not at start
        return rowsToText(
          (await import('papaparse')).default.parse<string[]>(decodeText(bytes).trim(), {
            skipEmptyLines: true,
          }).data,
        );
      case 'xlsx':
        return await parseXlsx(bytes);
      default:
        if (TEXT_EXTENSIONS.has(ext)) return decodeText(bytes);
    }
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw new ParseError('invalid_file', `Could not parse ${ext} file: ${(err as Error).message ?? err}`);
  }
  throw new ParseError(
    'unsupported_file',
    `Files with extension [.${ext || '(none)'}] are not supported for retrieval. Supported: ${SUPPORTED.map((e) => `.${e}`).join(', ')}`,
  );
}

const markdownHeading: FormatCallback = (elem, walk, builder, options) => {
  builder.openBlock({ leadingLineBreaks: 2 });
  builder.addInline(`${'#'.repeat(Number((options as { level?: number }).level ?? 1))} `);
  walk(elem.children, builder);
  builder.closeBlock({ trailingLineBreaks: 2 });
};

function decodeText(bytes: Buffer): string {
  if (bytes.includes(0)) throw new ParseError('invalid_file', 'The file is binary, not text.');
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes).replace(/^\uFEFF/, '');
}

async function parsePdf(bytes: Buffer): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  const pdf = await getDocumentProxy(new Uint8Array(bytes));
  const { text } = await extractText(pdf, { mergePages: false });
  return text.join('\n\n');
}

/** Rows as "header: value" lines, so each chunk keeps the meaning of its columns. */
function rowsToText(table: string[][]): string {
  const [header, ...rows] = table;
  if (!header) return '';
  return rows
    .map((row) => row.map((cell, i) => `${header[i] ?? `column ${i + 1}`}: ${cell}`).join('; '))
    .join('\n');
}

async function parseXlsx(bytes: Buffer): Promise<string> {
  const ExcelJS = (await import('exceljs')).default;
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(bytes as unknown as ArrayBuffer);
  const sheets: string[] = [];
  book.eachSheet((sheet) => {
    const rows: string[][] = [];
    sheet.eachRow((row) => {
      rows.push((row.values as unknown[]).slice(1).map((v) => cellText(v)));
    });
    sheets.push(`# ${sheet.name}\n${rowsToText(rows)}`);
  });
  return sheets.join('\n\n');
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const o = v as { text?: unknown; result?: unknown; richText?: { text: string }[] };
    if (o.richText) return o.richText.map((r) => r.text).join('');
    if (o.text !== undefined) return String(o.text);
    if (o.result !== undefined) return String(o.result);
    return JSON.stringify(v);
  }
  return String(v);
}
