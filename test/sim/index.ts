// Entry point of the WhatsApp Web simulator used by the tests (see README.md in this folder).
import { Simulator, type SimulatorOptions } from './server.js'

export type {
  CloseKind,
  InboundTextOptions,
  LinkedDevice,
  Restriction,
  RestrictOptions,
  SimulatedContact,
  SimulatorEventName,
  SimulatorEvents,
  SimulatorOptions,
  WebVersion,
} from './server.js'
export type { MediaKind, ReceivedMedia, ReceivedMessage } from './phone.js'
export type WhatsAppSimulator = Simulator

/** Starts the WebSocket server and the HTTPS media host on 127.0.0.1 (random ports unless `port` is given). */
export async function startSimulator (options: SimulatorOptions = {}): Promise<WhatsAppSimulator> {
  const simulator = new Simulator(options)
  await simulator.start()
  return simulator
}
