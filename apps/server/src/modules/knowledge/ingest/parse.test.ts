import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { ParseError, parseDocument } from './parse.ts';

describe('parseDocument', () => {
  it('reads xlsx sheets as header: value rows', async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Prices');
    sheet.addRow(['item', 'price, in yuan']);
    sheet.addRow(['tea', 12]);
    sheet.addRow(['茶杯', 30]);
    const bytes = Buffer.from(await book.xlsx.writeBuffer());
    const text = await parseDocument('prices.xlsx', bytes);
    expect(text).toBe('# Prices\nitem: tea; price, in yuan: 12\nitem: 茶杯; price, in yuan: 30');
  });

  it('reads csv with quoted fields', async () => {
    const text = await parseDocument('a.csv', Buffer.from('name,note\n"Li, Wei","says ""hi"""\n'));
    expect(text).toBe('name: Li, Wei; note: says "hi"');
  });

  it('refuses unknown extensions and binary text with the reason', async () => {
    await expect(parseDocument('x.exe', Buffer.from('MZ'))).rejects.toMatchObject({
      code: 'unsupported_file',
    });
    await expect(parseDocument('x.txt', Buffer.from([0, 1, 2]))).rejects.toBeInstanceOf(ParseError);
    await expect(parseDocument('x.docx', Buffer.from('not a zip'))).rejects.toMatchObject({
      code: 'invalid_file',
    });
  });
});
