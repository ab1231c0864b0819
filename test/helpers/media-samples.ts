// Small, structurally real samples of each media type, built in code so tests carry no binary
// fixtures. Each has what a parser looks at first (magic bytes, boxes, chunks, containers).
import { crc32, deflateSync } from 'node:zlib'

const ascii = (text: string): Buffer => Buffer.from(text, 'latin1')

function uint32LittleEndian (value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeUInt32LE(value)
  return buffer
}

function uint32BigEndian (value: number): Buffer {
  const buffer = Buffer.alloc(4)
  buffer.writeUInt32BE(value)
  return buffer
}

export function jpeg (): Buffer {
  return Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex')
}

function pngChunk (type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([ascii(type), data])
  return Buffer.concat([uint32BigEndian(data.length), typeAndData, uint32BigEndian(crc32(typeAndData))])
}

// A 1x1 greyscale PNG; `animated` adds the acTL chunk that makes it an APNG.
export function png ({ animated = false } = {}): Buffer {
  const header = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0])
  const animationControl = Buffer.concat([uint32BigEndian(1), uint32BigEndian(0)])
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    pngChunk('IHDR', header),
    ...(animated ? [pngChunk('acTL', animationControl)] : []),
    pngChunk('IDAT', deflateSync(Buffer.from([0, 0]))),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
}

export function gif (): Buffer {
  return Buffer.from('47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b', 'hex')
}

function riff (form: string, chunks: Buffer[]): Buffer {
  const body = Buffer.concat([ascii(form), ...chunks])
  return Buffer.concat([ascii('RIFF'), uint32LittleEndian(body.length), body])
}

function riffChunk (id: string, data: Buffer): Buffer {
  const padding = data.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0)
  return Buffer.concat([ascii(id), uint32LittleEndian(data.length), data, padding])
}

export function webp (): Buffer {
  // A 1x1 lossless VP8L bitstream.
  return riff('WEBP', [riffChunk('VP8L', Buffer.from('2f00000010071011118888fe0700', 'hex'))])
}

export function avi (): Buffer {
  const mainHeader = riffChunk('avih', Buffer.alloc(56))
  return riff('AVI ', [riffChunk('LIST', Buffer.concat([ascii('hdrl'), mainHeader]))])
}

export function wav (): Buffer {
  // PCM, mono, 8000 Hz, 8 bits, followed by two samples.
  const format = Buffer.from('01000100401f0000401f000001000800', 'hex')
  return riff('WAVE', [riffChunk('fmt ', format), riffChunk('data', Buffer.from([128, 128]))])
}

// An ISO base media file: the ftyp box's major brand is what tells MP4, MOV, 3GP and M4A apart.
export function isoMedia (majorBrand: string): Buffer {
  const ftypBody = Buffer.concat([ascii(majorBrand.padEnd(4, ' ')), uint32BigEndian(0x200), ascii('isomiso2mp41')])
  const ftyp = Buffer.concat([uint32BigEndian(8 + ftypBody.length), ascii('ftyp'), ftypBody])
  const free = Buffer.concat([uint32BigEndian(8), ascii('free')])
  return Buffer.concat([ftyp, free])
}

function guid (hex: string): Buffer {
  return Buffer.from(hex.replaceAll(' ', ''), 'hex')
}

function uint64LittleEndian (value: number): Buffer {
  const buffer = Buffer.alloc(8)
  buffer.writeBigUInt64LE(BigInt(value))
  return buffer
}

// An ASF header holding one Stream Properties Object: video makes it WMV, audio WMA.
export function asf (stream: 'video' | 'audio'): Buffer {
  const streamType = stream === 'video'
    ? guid('c0ef19bc 4d5bcf11 a8fd0080 5f5c442b')
    : guid('409e69f8 4d5bcf11 a8fd0080 5f5c442b')
  const streamPropertiesBody = Buffer.concat([streamType, guid('00'.repeat(16)), Buffer.alloc(8 + 4 + 4 + 2 + 4)])
  const streamProperties = Buffer.concat([
    guid('9107dcb7 b7a9cf11 8ee600c0 0c205365'),
    uint64LittleEndian(24 + streamPropertiesBody.length),
    streamPropertiesBody,
  ])
  const headerSize = 30 + streamProperties.length
  return Buffer.concat([
    guid('3026b275 8e66cf11 a6d900aa 0062ce6c'),
    uint64LittleEndian(headerSize),
    uint32LittleEndian(1),
    Buffer.from([1, 2]),
    streamProperties,
    Buffer.alloc(64),
  ])
}

// An MPEG audio frame header (MPEG-1, 128 kbit/s, 44.1 kHz), layer 3 unless told otherwise.
export function mpegAudio ({ layer = 3, id3 = false } = {}): Buffer {
  const layerBits = { 1: 0xFF, 2: 0xFD, 3: 0xFB }[layer] ?? 0xFB
  const frame = Buffer.concat([Buffer.from([0xFF, layerBits, 0x90, 0x64]), Buffer.alloc(413)])
  const tag = Buffer.from([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0])
  return id3 ? Buffer.concat([tag, frame]) : frame
}

// The first Ogg page, whose packet names the codec.
export function ogg (codec: 'vorbis' | 'opus' | 'theora'): Buffer {
  const packet = {
    vorbis: Buffer.concat([Buffer.from([1]), ascii('vorbis'), Buffer.alloc(23)]),
    opus: Buffer.concat([ascii('OpusHead'), Buffer.from([1, 1, 0, 0, 0x80, 0xBB, 0, 0, 0, 0, 0])]),
    theora: Buffer.concat([Buffer.from([0x80]), ascii('theora'), Buffer.alloc(35)]),
  }[codec]
  const header = Buffer.concat([
    ascii('OggS'), Buffer.from([0, 2]), Buffer.alloc(8), uint32LittleEndian(1), uint32LittleEndian(0), uint32LittleEndian(0),
    Buffer.from([1, packet.length]),
  ])
  return Buffer.concat([header, packet])
}

export function pdf (): Buffer {
  return ascii('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')
}

// A zip archive with stored (uncompressed) entries, central directory included.
export function zip (entries: Record<string, string>): Buffer {
  const localParts: Buffer[] = []
  const centralParts: Buffer[] = []
  let offset = 0
  for (const [name, content] of Object.entries(entries)) {
    const nameBytes = Buffer.from(name)
    const data = Buffer.from(content)
    const checksum = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt32LE(checksum, 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(nameBytes.length, 26)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt32LE(checksum, 16)
    central.writeUInt32LE(data.length, 20)
    central.writeUInt32LE(data.length, 24)
    central.writeUInt16LE(nameBytes.length, 28)
    central.writeUInt32LE(offset, 42)
    localParts.push(local, nameBytes, data)
    centralParts.push(central, nameBytes)
    offset += local.length + nameBytes.length + data.length
  }
  const centralDirectory = Buffer.concat(centralParts)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(centralParts.length / 2, 8)
  end.writeUInt16LE(centralParts.length / 2, 10)
  end.writeUInt32LE(centralDirectory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...localParts, centralDirectory, end])
}

function contentTypes (mainContentType: string): string {
  return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' +
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    `<Override PartName="/main.xml" ContentType="${mainContentType}"/></Types>`
}

export function docx (): Buffer {
  return zip({
    '[Content_Types].xml': contentTypes('application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml'),
    'word/document.xml': '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"/>',
  })
}

export function xlsx (): Buffer {
  return zip({
    '[Content_Types].xml': contentTypes('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml'),
    'xl/workbook.xml': '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
  })
}

export function docm (): Buffer {
  return zip({
    '[Content_Types].xml': contentTypes('application/vnd.ms-word.document.macroEnabled.main+xml'),
    'word/document.xml': '<w:document/>',
  })
}

export interface CompoundFileEntry {
  name: string
  type: 'storage' | 'stream'
  // Indexes into the entry list; the root is entry 0 and is added by `compoundFile`.
  child?: number
  left?: number
  right?: number
}

const noStream = 0xFFFFFFFF
const endOfChain = 0xFFFFFFFE
const fatSectorMarker = 0xFFFFFFFD
const freeSector = 0xFFFFFFFF

function directoryEntry (name: string, objectType: number, left: number, right: number, child: number): Buffer {
  const entry = Buffer.alloc(128)
  const nameBytes = Buffer.from(`${name}\0`, 'utf16le')
  nameBytes.copy(entry, 0)
  entry.writeUInt16LE(nameBytes.length, 0x40)
  entry[0x42] = objectType
  entry[0x43] = 1
  entry.writeUInt32LE(left, 0x44)
  entry.writeUInt32LE(right, 0x48)
  entry.writeUInt32LE(child, 0x4C)
  entry.writeUInt32LE(endOfChain, 0x74)
  return entry
}

function compoundFileHeader (
  fatSectorCount: number,
  firstDirectorySector: number,
  difat: number[],
  firstDifatSector = endOfChain,
  difatSectorCount = 0
): Buffer {
  const header = Buffer.alloc(512)
  Buffer.from('d0cf11e0a1b11ae1', 'hex').copy(header, 0)
  header.writeUInt16LE(0x3E, 0x18)
  header.writeUInt16LE(3, 0x1A)
  header.writeUInt16LE(0xFFFE, 0x1C)
  header.writeUInt16LE(9, 0x1E)
  header.writeUInt16LE(6, 0x20)
  header.writeUInt32LE(fatSectorCount, 0x2C)
  header.writeUInt32LE(firstDirectorySector, 0x30)
  header.writeUInt32LE(0x1000, 0x38)
  header.writeUInt32LE(endOfChain, 0x3C)
  header.writeUInt32LE(firstDifatSector, 0x44)
  header.writeUInt32LE(difatSectorCount, 0x48)
  for (let index = 0; index < 109; index++) header.writeUInt32LE(difat[index] ?? freeSector, 0x4C + index * 4)
  return header
}

function directorySectors (entries: CompoundFileEntry[], rootChild: number): Buffer {
  const all = [
    directoryEntry('Root Entry', 5, noStream, noStream, rootChild),
    ...entries.map(entry => directoryEntry(
      entry.name, entry.type === 'stream' ? 2 : 1, entry.left ?? noStream, entry.right ?? noStream, entry.child ?? noStream
    )),
  ]
  while (all.length % 4 !== 0) all.push(directoryEntry('', 0, noStream, noStream, noStream))
  return Buffer.concat(all)
}

// A Compound File Binary container (what .doc and .xls are) with 512-byte sectors: sector 0 is
// the FAT, the directory starts at sector 1 and may span several sectors.
export function compoundFile (entries: CompoundFileEntry[], rootChild = 1): Buffer {
  const directory = directorySectors(entries, rootChild)
  const directorySectorCount = directory.length / 512
  const fat = Buffer.alloc(512, 0xFF)
  fat.writeUInt32LE(fatSectorMarker, 0)
  for (let sector = 1; sector <= directorySectorCount; sector++) {
    fat.writeUInt32LE(sector === directorySectorCount ? endOfChain : sector + 1, sector * 4)
  }
  return Buffer.concat([compoundFileHeader(1, 1, [0]), fat, directory])
}

// The same, but with the directory far enough into the file that the FAT sector chaining its
// sectors is listed in a DIFAT sector rather than in the header (past 109 FAT sectors of 128
// entries each). Give it more than three entries so the directory spans two sectors.
export function largeCompoundFile (entries: CompoundFileEntry[]): Buffer {
  const directorySector = 109 * 128
  const fatSectorCount = 110
  // Sector 0: a FAT sector (the header lists it 109 times; only the last one listed is used).
  // Sector 1: the DIFAT sector, naming sector 2 as FAT sector number 110.
  // Sector 2: FAT sector 110, which ends the directory's chain.
  const firstFat = Buffer.alloc(512, 0xFF)
  firstFat.writeUInt32LE(fatSectorMarker, 0)
  const difat = Buffer.alloc(512, 0xFF)
  difat.writeUInt32LE(2, 0)
  difat.writeUInt32LE(endOfChain, 508)
  const directory = directorySectors(entries, 1)
  const directorySectorCount = directory.length / 512
  const lastFat = Buffer.alloc(512, 0xFF)
  for (let index = 0; index < directorySectorCount; index++) {
    lastFat.writeUInt32LE(index === directorySectorCount - 1 ? endOfChain : directorySector + index + 1, index * 4)
  }
  const padding = Buffer.alloc((directorySector - 3) * 512)
  return Buffer.concat([
    compoundFileHeader(fatSectorCount, directorySector, Array.from({ length: 109 }, () => 0), 1, 1),
    firstFat,
    difat,
    lastFat,
    padding,
    directory,
  ])
}
