import { isPlatError } from '@plat/core';
import { sanitizeFilename, validateUpload } from '../src';

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f2f5a00000000049454e44ae426082',
  'hex',
);
const JPEG = Buffer.from(
  'ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffd9',
  'hex',
);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const SVG = Buffer.from(
  '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
);
const HTML = Buffer.from('<!DOCTYPE html><html><script>alert(1)</script></html>');

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isPlatError(error)) return { code: error.code, reason: error.details?.reason };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('validateUpload', () => {
  it('accepts a file whose content, type and extension agree', async () => {
    await expect(
      validateUpload({ data: PNG, filename: 'avatar.png', mimeType: 'image/png' }),
    ).resolves.toEqual({
      mimeType: 'image/png',
      extension: 'png',
      filename: 'avatar.png',
      size: PNG.length,
    });
    const jpeg = await validateUpload({ data: JPEG, filename: 'photo.JPG', mimeType: 'image/jpg' });
    expect(jpeg.mimeType).toBe('image/jpeg');
    expect(
      (await validateUpload({ data: PDF, filename: 'doc.pdf', mimeType: 'application/pdf' })).extension,
    ).toBe('pdf');
  });

  it('rejects a lying extension', async () => {
    expect(
      await refusal(validateUpload({ data: PNG, filename: 'photo.jpg', mimeType: 'image/jpeg' })),
    ).toEqual({
      code: 'UPLOAD_REJECTED',
      reason: 'upload.mime-mismatch',
    });
    expect(
      await refusal(validateUpload({ data: PNG, filename: 'photo.jpg', mimeType: 'image/png' })),
    ).toEqual({
      code: 'UPLOAD_REJECTED',
      reason: 'upload.extension-mismatch',
    });
  });

  it('rejects double extensions that hide executables', async () => {
    expect(
      await refusal(validateUpload({ data: PNG, filename: 'shell.php.png', mimeType: 'image/png' })),
    ).toEqual({
      code: 'UPLOAD_REJECTED',
      reason: 'upload.double-extension',
    });
  });

  it('treats SVG and HTML as active content', async () => {
    const options = { allowedTypes: ['image/png', 'image/svg+xml', 'text/html'] };
    expect(
      await refusal(validateUpload({ data: SVG, filename: 'logo.svg', mimeType: 'image/svg+xml' }, options)),
    ).toMatchObject({
      reason: 'upload.active-content',
    });
    // An HTML page renamed to .png is still HTML to a browser.
    expect(
      await refusal(validateUpload({ data: HTML, filename: 'cat.png', mimeType: 'image/png' }, options)),
    ).toMatchObject({
      code: 'UNSUPPORTED_FILE_TYPE',
      reason: 'upload.active-content',
    });
    const allowed = await validateUpload(
      { data: SVG, filename: 'logo.svg', mimeType: 'image/svg+xml' },
      { ...options, allowActiveContent: true },
    );
    expect(allowed.mimeType).toBe('image/svg+xml');
  });

  it('enforces size and type allow-lists', async () => {
    expect(
      await refusal(
        validateUpload({ data: PNG, filename: 'a.png', mimeType: 'image/png' }, { maxBytes: 10 }),
      ),
    ).toEqual({
      code: 'FILE_TOO_LARGE',
      reason: 'upload.too-large',
    });
    expect(
      await refusal(
        validateUpload(
          { data: PDF, filename: 'a.pdf', mimeType: 'application/pdf' },
          { allowedTypes: ['image/png'] },
        ),
      ),
    ).toMatchObject({ code: 'UNSUPPORTED_FILE_TYPE', reason: 'upload.type-not-allowed' });
    const text = Buffer.from('id,total\n1,20\n');
    expect(
      (
        await validateUpload(
          { data: text, filename: 'orders.csv', mimeType: 'text/csv' },
          { allowedTypes: ['text/csv'] },
        )
      ).mimeType,
    ).toBe('text/csv');
  });
});

describe('sanitizeFilename', () => {
  it.each([
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\report.pdf', 'report.pdf'],
    ['invoice\u202Egpj.exe', 'invoicegpj.exe'],
    ['  ..hidden.txt  ', 'hidden.txt'],
    ['a<b>:c|d?.txt', 'abcd.txt'],
    ['CON.txt', '_CON.txt'],
    ['ｆｕｌｌ.png', 'full.png'],
    ['x\u0000y.png', 'xy.png'],
    ['...', undefined],
  ])('%j → %j', (input, expected) => {
    expect(sanitizeFilename(input)).toBe(expected);
  });

  it('bounds the length and keeps the extension', () => {
    const name = sanitizeFilename(`${'a'.repeat(500)}.png`, 50)!;
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(50);
    expect(name.endsWith('.png')).toBe(true);
  });
});
