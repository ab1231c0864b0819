import t from 'tap'
import { detectMediaType } from '../src/media-type.js'
import * as samples from './helpers/media-samples.js'

const unsupported = (mimetype: string) => ({
  code: 'FILE_TYPE_UNSUPPORTED',
  statusCode: 415,
  message: `Tipe file ${mimetype} tidak didukung`,
})

t.test('every type on the troubleshooting guide\'s list is accepted, read from the bytes', async t => {
  const cases: Array<[string, Uint8Array, string, string, string]> = [
    ['JPEG', samples.jpeg(), 'image/jpeg', 'image', 'jpg'],
    ['PNG', samples.png(), 'image/png', 'image', 'png'],
    ['animated PNG', samples.png({ animated: true }), 'image/png', 'image', 'png'],
    ['GIF', samples.gif(), 'image/gif', 'image', 'gif'],
    ['WebP', samples.webp(), 'image/webp', 'image', 'webp'],
    ['MP4', samples.isoMedia('isom'), 'video/mp4', 'video', 'mp4'],
    ['MOV', samples.isoMedia('qt'), 'video/quicktime', 'video', 'mov'],
    ['3GP', samples.isoMedia('3gp4'), 'video/3gpp', 'video', '3gp'],
    ['AVI', samples.avi(), 'video/x-msvideo', 'document', 'avi'],
    ['WMV', samples.asf('video'), 'video/x-ms-wmv', 'document', 'wmv'],
    ['MP3 with ID3 tag', samples.mpegAudio({ id3: true }), 'audio/mpeg', 'audio', 'mp3'],
    ['MP3 frame', samples.mpegAudio(), 'audio/mpeg', 'audio', 'mp3'],
    ['MPEG audio layer 2', samples.mpegAudio({ layer: 2 }), 'audio/mpeg', 'audio', 'mp2'],
    ['WAV', samples.wav(), 'audio/wav', 'audio', 'wav'],
    ['OGG Vorbis', samples.ogg('vorbis'), 'audio/ogg', 'audio', 'ogg'],
    ['OGG Opus', samples.ogg('opus'), 'audio/ogg; codecs=opus', 'audio', 'ogg'],
    ['M4A', samples.isoMedia('M4A'), 'audio/mp4', 'audio', 'm4a'],
    ['PDF', samples.pdf(), 'application/pdf', 'document', 'pdf'],
    ['DOCX', samples.docx(), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'document', 'docx'],
    ['XLSX', samples.xlsx(), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'document', 'xlsx'],
    ['DOC', samples.compoundFile([{ name: 'WordDocument', type: 'stream' }]), 'application/msword', 'document', 'doc'],
    ['XLS', samples.compoundFile([{ name: 'Workbook', type: 'stream' }]), 'application/vnd.ms-excel', 'document', 'xls'],
    ['XLS from Excel 95', samples.compoundFile([{ name: 'Book', type: 'stream' }]), 'application/vnd.ms-excel', 'document', 'xls'],
  ]
  for (const [name, bytes, mimetype, kind, extension] of cases) {
    t.same(await detectMediaType(bytes), { mimetype, kind, extension }, name)
  }
})

t.test('the file name never overrides the bytes', async t => {
  t.same(await detectMediaType(samples.jpeg(), 'report.pdf'), { mimetype: 'image/jpeg', kind: 'image', extension: 'jpg' })
  await t.rejects(detectMediaType(Buffer.from('MZ\x90\0\x03\0\0\0'), 'photo.jpg'), unsupported('application/x-msdownload'))
})

t.test('text is plain text, or CSV when the file name says so', async t => {
  const text = Buffer.from('Halo, ini catatan.\nBaris kedua: café ✓\n')
  t.same(await detectMediaType(text), { mimetype: 'text/plain', kind: 'document', extension: 'txt' })
  t.same(await detectMediaType(text, 'catatan.txt'), { mimetype: 'text/plain', kind: 'document', extension: 'txt' })
  const csv = Buffer.from('nama,nomor\nBudi,08123456789\n')
  t.same(await detectMediaType(csv, 'kontak.CSV'), { mimetype: 'text/csv', kind: 'document', extension: 'csv' })
  t.same(await detectMediaType(csv, 'kontak.csv.exe'), { mimetype: 'text/plain', kind: 'document', extension: 'txt' })
  t.same(await detectMediaType(Buffer.from('\uFEFFdengan BOM')), { mimetype: 'text/plain', kind: 'document', extension: 'txt' })
  t.same(await detectMediaType(Buffer.from('<3 untukmu, < 5 menit')), { mimetype: 'text/plain', kind: 'document', extension: 'txt' }, 'a "<" alone is not markup')
})

t.test('SVG is refused with exactly the troubleshooting guide\'s message, however it starts', async t => {
  const svgs = [
    '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>',
    '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    '\uFEFF<?xml version="1.0"?><svg/>',
    '<!-- icon -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<svg></svg>',
    '<!DOCTYPE svg [ <!ENTITY a "<b>"> ]>\n<svg>&a;</svg>',
    '  \n<svg:svg xmlns:svg="http://www.w3.org/2000/svg"/>',
    '<?xml-stylesheet href="a.css"?><SVG/>',
  ]
  for (const svg of svgs) {
    await t.rejects(detectMediaType(Buffer.from(svg), 'gambar.png'), { ...unsupported('image/svg+xml'), message: 'Tipe file image/svg+xml tidak didukung' }, svg)
  }
})

t.test('HTML and other XML are refused as what they are', async t => {
  for (const html of ['<!DOCTYPE html><html><body>hi</body></html>', '<html lang="id"></html>', '<body onload="x()">', '<?xml version="1.0"?>\n<!DOCTYPE html>\n<html/>']) {
    await t.rejects(detectMediaType(Buffer.from(html), 'a.txt'), unsupported('text/html'), html)
  }
  for (const xml of ['<?xml version="1.0"?><note/>', '<note><to>Budi</to></note>', '<!-- never closed', '<?xml never closed', '<!DOCTYPE note [ never closed', '<!DOCTYPE note>']) {
    await t.rejects(detectMediaType(Buffer.from(xml), 'a.txt'), unsupported('application/xml'), xml)
  }
  const utf16Xml = Buffer.concat([Buffer.from([0xFF, 0xFE]), Buffer.from('<?xml version="1.0"?><a/>', 'utf16le')])
  await t.rejects(detectMediaType(utf16Xml), unsupported('application/xml'), 'XML that is not UTF-8')
})

t.test('anything else is refused with its detected type', async t => {
  const cases: Array<[string, Uint8Array, string]> = [
    ['M4V', samples.isoMedia('M4V'), 'video/x-m4v'],
    ['HEIC', samples.isoMedia('heic'), 'image/heic'],
    ['WMA', samples.asf('audio'), 'audio/x-ms-asf'],
    ['OGG Theora video', samples.ogg('theora'), 'video/ogg'],
    ['plain zip', samples.zip({ 'a.txt': 'a' }), 'application/zip'],
    ['macro-enabled Word', samples.docm(), 'application/vnd.ms-word.document.macroenabled.12'],
    ['PowerPoint 97', samples.compoundFile([{ name: 'PowerPoint Document', type: 'stream' }]), 'application/x-cfb'],
  ]
  for (const [name, bytes, mimetype] of cases) {
    await t.rejects(detectMediaType(bytes), unsupported(mimetype), name)
  }
})

t.test('unknown binary and empty files are refused', async t => {
  await t.rejects(detectMediaType(Buffer.from([0x01, 0x02, 0xFE, 0x80, 0x00, 0x11])), unsupported('application/octet-stream'), 'invalid UTF-8')
  await t.rejects(detectMediaType(Buffer.from('teks\0dengan NUL')), unsupported('application/octet-stream'), 'text with a NUL byte')
  await t.rejects(detectMediaType(new Uint8Array(0)), unsupported('application/x-empty'))
})

t.test('old Office files: only streams of the root storage count', async t => {
  const excelWithEmbeddedWord = samples.compoundFile([
    { name: 'Workbook', type: 'stream', right: 2 },
    { name: 'ObjectPool', type: 'storage', child: 3 },
    { name: 'WordDocument', type: 'stream' },
  ])
  t.equal((await detectMediaType(excelWithEmbeddedWord)).extension, 'xls')

  const wordWithEmbeddedExcel = samples.compoundFile([
    { name: '1Table', type: 'stream', left: 2, right: 3 },
    { name: 'ObjectPool', type: 'storage', child: 4 },
    { name: 'WordDocument', type: 'stream' },
    { name: 'Workbook', type: 'stream' },
  ], 1)
  t.equal((await detectMediaType(wordWithEmbeddedExcel)).extension, 'doc')

  const onlyInSubStorage = samples.compoundFile([{ name: 'Sub', type: 'storage', child: 2 }, { name: 'WordDocument', type: 'stream' }])
  await t.rejects(detectMediaType(onlyInSubStorage), unsupported('application/x-cfb'))
  const storageNamedLikeAStream = samples.compoundFile([{ name: 'WordDocument', type: 'storage' }])
  await t.rejects(detectMediaType(storageNamedLikeAStream), unsupported('application/x-cfb'))
})

t.test('old Office files: a directory spanning several sectors is followed through the FAT', async t => {
  const entries = [
    { name: 'A', type: 'stream', right: 2 },
    { name: 'B', type: 'stream', right: 3 },
    { name: 'C', type: 'stream', right: 4 },
    { name: 'D', type: 'stream', right: 5 },
    { name: 'E', type: 'stream', right: 6 },
    { name: 'Workbook', type: 'stream' },
  ] as const
  t.equal((await detectMediaType(samples.compoundFile([...entries]))).extension, 'xls')
})

const wordEntryInSecondDirectorySector = [
  { name: 'A', type: 'stream', right: 2 },
  { name: 'B', type: 'stream', right: 3 },
  { name: 'C', type: 'stream', right: 4 },
  { name: 'WordDocument', type: 'stream' },
] as const

t.test('old Office files: FAT sectors listed in a DIFAT sector are found', async t => {
  const bytes = samples.largeCompoundFile([...wordEntryInSecondDirectorySector])
  t.ok(bytes.length > 7_000_000, 'large enough to need the DIFAT')
  t.equal((await detectMediaType(bytes)).extension, 'doc')

  const brokenDifat = Buffer.from(bytes)
  brokenDifat.writeUInt32LE(0xFFFFFFFE, 0x44)
  await t.rejects(detectMediaType(brokenDifat), unsupported('application/x-cfb'), 'without the DIFAT the second directory sector is lost')
})

t.test('damaged compound files are refused, not crashed on', async t => {
  const word = samples.compoundFile([{ name: 'WordDocument', type: 'stream' }])

  const badSectorSize = Buffer.from(word)
  badSectorSize.writeUInt16LE(10, 0x1E)
  await t.rejects(detectMediaType(badSectorSize), unsupported('application/x-cfb'), 'an impossible sector size')

  await t.rejects(detectMediaType(word.subarray(0, 300)), unsupported('application/x-cfb'), 'shorter than its header')
  await t.rejects(detectMediaType(word.subarray(0, 1024)), unsupported('application/x-cfb'), 'cut before the directory')

  const directoryOutside = Buffer.from(word)
  directoryOutside.writeUInt32LE(1000, 0x30)
  await t.rejects(detectMediaType(directoryOutside), unsupported('application/x-cfb'), 'directory sector beyond the end')

  const looped = samples.compoundFile([{ name: 'A', type: 'stream', right: 2 }, { name: 'B', type: 'stream', right: 1 }])
  await t.rejects(detectMediaType(looped), unsupported('application/x-cfb'), 'a cycle in the tree')

  const badNameLength = Buffer.from(word)
  badNameLength.writeUInt16LE(200, 1024 + 128 + 0x40)
  await t.rejects(detectMediaType(badNameLength), unsupported('application/x-cfb'), 'a name longer than its field')

  const noFat = Buffer.from(word)
  noFat.writeUInt32LE(0, 0x2C)
  t.equal((await detectMediaType(noFat)).extension, 'doc', 'the first directory sector is read even without a FAT')
})
