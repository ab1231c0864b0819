// WhatsApp's server refused the message (a nack with an error code) or never took it in time.
// 463 is the reach-out timelock: the account may not start new chats. Resending would count as
// another reach-out, so nothing here or above retries it on the same account.
export class SendRefusedError extends Error {
  constructor (readonly errorCode: string, readonly restrictedUntil: Date | null = null) {
    super(errorCode === 'timeout' ? 'WhatsApp did not confirm the message in time' : `WhatsApp refused the message (error ${errorCode})`)
    this.name = 'SendRefusedError'
  }

  get restricted (): boolean {
    return this.errorCode === '463'
  }
}
