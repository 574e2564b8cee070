import { AlignmentType, Document, Packer, Paragraph } from 'docx';
import PDFDocument from 'pdfkit';

/** A real PDF with `lines` as text, made by pdfkit. */
export async function makePdf(lines: string[]): Promise<Buffer> {
  const doc = new PDFDocument({ compress: false });
  const parts: Buffer[] = [];
  doc.on('data', (c: Buffer) => parts.push(c));
  const ended = new Promise((r) => doc.on('end', r));
  for (const line of lines) doc.text(line);
  doc.end();
  await ended;
  return Buffer.concat(parts);
}

/** A real .docx with one paragraph per line, made by the docx package. */
export async function makeDocx(lines: string[]): Promise<Buffer> {
  const doc = new Document({
    sections: [{ children: lines.map((text) => new Paragraph({ text, alignment: AlignmentType.LEFT })) }],
  });
  return Packer.toBuffer(doc);
}
