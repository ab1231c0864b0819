import { errors } from './errors.js'

export type MediaKind = 'image' | 'video' | 'audio' | 'document'

export interface DetectedMediaType {
  mimetype: string
  kind: MediaKind
  extension: string
}

// The troubleshooting guide's list (section 3), keyed by the type file-type reads from the
// bytes. `kind` is how WhatsApp gets the file: AVI and WMV go as documents because WhatsApp's
// players cannot play them inline, so a video message would arrive broken while a document
// arrives intact and opens in the recipient's own player. Mimetypes are the ones phones know
// (audio/mp4 for M4A, video/x-msvideo for AVI) where file-type reports a rarer alias.
const acceptedTypes: Record<string, DetectedMediaType> = {
  'image/jpeg': { mimetype: 'image/jpeg', kind: 'image', extension: 'jpg' },
  'image/png': { mimetype: 'image/png', kind: 'image', extension: 'png' },
  // An animated PNG is still a PNG; viewers that do not animate show its first frame.
  'image/apng': { mimetype: 'image/png', kind: 'image', extension: 'png' },
  'image/gif': { mimetype: 'image/gif', kind: 'image', extension: 'gif' },
  'image/webp': { mimetype: 'image/webp', kind: 'image', extension: 'webp' },
  'video/mp4': { mimetype: 'video/mp4', kind: 'video', extension: 'mp4' },
  'video/quicktime': { mimetype: 'video/quicktime', kind: 'video', extension: 'mov' },
  'video/3gpp': { mimetype: 'video/3gpp', kind: 'video', extension: '3gp' },
  'video/vnd.avi': { mimetype: 'video/x-msvideo', kind: 'document', extension: 'avi' },
  'video/x-ms-asf': { mimetype: 'video/x-ms-wmv', kind: 'document', extension: 'wmv' },
  'audio/mpeg': { mimetype: 'audio/mpeg', kind: 'audio', extension: 'mp3' },
  'audio/wav': { mimetype: 'audio/wav', kind: 'audio', extension: 'wav' },
  'audio/ogg': { mimetype: 'audio/ogg', kind: 'audio', extension: 'ogg' },
  // WhatsApp's own voice notes carry exactly this mimetype.
  'audio/ogg; codecs=opus': { mimetype: 'audio/ogg; codecs=opus', kind: 'audio', extension: 'ogg' },
  'audio/x-m4a': { mimetype: 'audio/mp4', kind: 'audio', extension: 'm4a' },
  'application/pdf': { mimetype: 'application/pdf', kind: 'document', extension: 'pdf' },
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': {
    mimetype: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', kind: 'document', extension: 'docx',
  },
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
    mimetype: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', kind: 'document', extension: 'xlsx',
  },
}

const wordDocument: DetectedMediaType = { mimetype: 'application/msword', kind: 'document', extension: 'doc' }
const excelWorkbook: DetectedMediaType = { mimetype: 'application/vnd.ms-excel', kind: 'document', extension: 'xls' }
const plainText: DetectedMediaType = { mimetype: 'text/plain', kind: 'document', extension: 'txt' }
const commaSeparatedValues: DetectedMediaType = { mimetype: 'text/csv', kind: 'document', extension: 'csv' }

// The type comes from the bytes only. The client's content type and file name are claims anyone
// can forge; the file name is used for one thing the bytes cannot tell: whether text is CSV.
export async function detectMediaType (bytes: Uint8Array, fileName?: string): Promise<DetectedMediaType> {
  if (bytes.length === 0) throw new errors.FILE_TYPE_UNSUPPORTED('application/x-empty')

  // Loaded on the first upload: its signatures cost the memory of a process that never gets one.
  const { fileTypeFromBuffer } = await import('file-type')
  const detected = await fileTypeFromBuffer(bytes)
  if (detected === undefined) return textType(bytes, fileName)
  if (detected.mime === 'application/x-cfb') return compoundFileType(bytes)
  // file-type calls anything starting with "<?xml " XML, SVG included.
  if (detected.mime === 'application/xml') {
    throw new errors.FILE_TYPE_UNSUPPORTED(markupType(decodeUtf8(bytes) ?? '') ?? 'application/xml')
  }
  const accepted = acceptedTypes[detected.mime]
  if (accepted === undefined) throw new errors.FILE_TYPE_UNSUPPORTED(detected.mime)
  // MPEG audio layers 1 and 2 share audio/mpeg with MP3 but keep their own extension.
  if (detected.mime === 'audio/mpeg') return { ...accepted, extension: detected.ext }
  return accepted
}

// Text has no magic bytes: valid UTF-8 without NUL bytes is text. Markup is text too, and is
// refused: SVG and HTML can carry scripts, and none of it is on the troubleshooting guide's list.
function textType (bytes: Uint8Array, fileName: string | undefined): DetectedMediaType {
  const text = bytes.includes(0) ? undefined : decodeUtf8(bytes)
  if (text === undefined) throw new errors.FILE_TYPE_UNSUPPORTED('application/octet-stream')
  const markup = markupType(text)
  if (markup !== undefined) throw new errors.FILE_TYPE_UNSUPPORTED(markup)
  return fileName?.toLowerCase().endsWith('.csv') ? commaSeparatedValues : plainText
}

function decodeUtf8 (bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}

const htmlRootElements = new Set(['html', 'head', 'body'])

// Which markup a text is, from its root element: XML declarations, comments, processing
// instructions and the doctype before it are skipped. Undefined when the text is not markup.
function markupType (text: string): string | undefined {
  let rest = text.trimStart()
  if (!/^<[A-Za-z_!?]/.test(rest)) return undefined
  let doctype = ''
  for (;;) {
    let end: number
    if (rest.startsWith('<?')) {
      end = rest.indexOf('?>') + 2
    } else if (rest.startsWith('<!--')) {
      end = rest.indexOf('-->') + 3
    } else if (/^<!doctype/i.test(rest)) {
      // An internal subset ("<!DOCTYPE svg [ <!ENTITY ...> ]>") has ">" inside it.
      const subsetStart = rest.indexOf('[')
      const plainEnd = rest.indexOf('>')
      end = subsetStart !== -1 && subsetStart < plainEnd ? rest.indexOf(']>', subsetStart) + 2 : plainEnd + 1
      doctype = rest.slice(0, end).toLowerCase()
    } else {
      break
    }
    // An unterminated construct: markup all the same, of no recognisable kind.
    if (end < 2) return 'application/xml'
    rest = rest.slice(end).trimStart()
  }
  const rootName = /^<([A-Za-z_][\w.:-]*)/.exec(rest)?.[1].toLowerCase()
  // "svg:svg" is an SVG root with a namespace prefix.
  const localName = rootName?.slice(rootName.indexOf(':') + 1)
  if (localName === 'svg' || /^<!doctype\s+svg\b/.test(doctype)) return 'image/svg+xml'
  if ((localName !== undefined && htmlRootElements.has(localName)) || /^<!doctype\s+html\b/.test(doctype)) return 'text/html'
  return 'application/xml'
}

// Word 97-2003 and Excel 97-2003 files are Compound File Binary containers, which file-type
// cannot look into. The names of the root storage's streams tell them apart; streams of
// embedded objects (an Excel sheet inside a Word file) live in sub-storages and do not count.
function compoundFileType (bytes: Uint8Array): DetectedMediaType {
  const names = compoundFileRootStreamNames(bytes)
  if (names.has('WordDocument')) return wordDocument
  // "Book" is the Excel 5/95 name of the stream, "Workbook" the Excel 97 and later one.
  if (names.has('Workbook') || names.has('Book')) return excelWorkbook
  throw new errors.FILE_TYPE_UNSUPPORTED('application/x-cfb')
}

const directoryEntrySize = 128
const headerDifatEntries = 109
const streamObject = 2

// Follows [MS-CFB]: header, DIFAT, FAT, then the directory chain and the root's red-black tree
// of children. Any inconsistency ends the walk with what was found so far; loops are bounded by
// the number of sectors the file can hold, so a crafted file cannot make it spin.
function compoundFileRootStreamNames (bytes: Uint8Array): Set<string> {
  const names = new Set<string>()
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.length < 512) return names
  const sectorShift = view.getUint16(0x1E, true)
  if (sectorShift !== 9 && sectorShift !== 12) return names
  const sectorSize = 1 << sectorShift
  const entriesPerSector = sectorSize / 4
  // Sectors that lie wholly inside the file; the header takes the first sector's worth of bytes.
  const sectorLimit = Math.floor(bytes.length / sectorSize) - 1
  const sectorOffset = (sector: number): number => (sector + 1) * sectorSize

  const fatSectors: number[] = []
  const fatSectorCount = view.getUint32(0x2C, true)
  for (let index = 0; index < Math.min(fatSectorCount, headerDifatEntries); index++) {
    fatSectors.push(view.getUint32(0x4C + index * 4, true))
  }
  let difatSector = view.getUint32(0x44, true)
  for (let hops = 0; fatSectors.length < fatSectorCount && difatSector < sectorLimit && hops < sectorLimit; hops++) {
    for (let index = 0; index < entriesPerSector - 1 && fatSectors.length < fatSectorCount; index++) {
      fatSectors.push(view.getUint32(sectorOffset(difatSector) + index * 4, true))
    }
    difatSector = view.getUint32(sectorOffset(difatSector) + (entriesPerSector - 1) * 4, true)
  }
  const nextSector = (sector: number): number | undefined => {
    const fatSector = fatSectors[Math.floor(sector / entriesPerSector)]
    if (fatSector === undefined || fatSector >= sectorLimit) return undefined
    return view.getUint32(sectorOffset(fatSector) + (sector % entriesPerSector) * 4, true)
  }

  const entryOffsets: number[] = []
  let directorySector: number | undefined = view.getUint32(0x30, true)
  for (let hops = 0; directorySector !== undefined && directorySector < sectorLimit && hops < sectorLimit; hops++) {
    for (let offset = 0; offset < sectorSize; offset += directoryEntrySize) {
      entryOffsets.push(sectorOffset(directorySector) + offset)
    }
    directorySector = nextSector(directorySector)
  }

  if (entryOffsets.length === 0) return names
  // Every entry offset lies inside a whole sector, so the reads below stay in bounds.
  const pending = [view.getUint32(entryOffsets[0] + 0x4C, true)]
  const visited = new Set<number>()
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    const offset = entryOffsets[id]
    if (offset === undefined || visited.has(id)) continue
    visited.add(id)
    const nameLength = view.getUint16(offset + 0x40, true)
    if (bytes[offset + 0x42] === streamObject && nameLength >= 2 && nameLength <= 64) {
      names.add(Buffer.from(bytes.subarray(offset, offset + nameLength - 2)).toString('utf16le'))
    }
    pending.push(view.getUint32(offset + 0x44, true), view.getUint32(offset + 0x48, true))
  }
  return names
}
