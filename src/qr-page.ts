// The page a phone owner opens to link WhatsApp: one self-contained file (no CDN, no external
// script), which polls the session's state and shows the QR until the phone is connected.

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)

// stateUrl is relative to the page, so the page works wherever a proxy publishes it.
export function renderQrPage (options: { sessionId: string, stateUrl: string }): string {
  const sessionId = escapeHtml(options.sessionId)
  const stateUrl = JSON.stringify(options.stateUrl).replace(/</g, '\\u003c')
  return `<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Tautkan WhatsApp - ${sessionId}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f0f2f5; color: #111b21; margin: 0; display: flex; min-height: 100vh; align-items: center; justify-content: center; }
  main { background: #fff; border-radius: 12px; padding: 32px; max-width: 420px; width: 100%; box-shadow: 0 2px 12px rgba(0,0,0,.08); text-align: center; }
  h1 { font-size: 1.3rem; margin: 0 0 8px; }
  #qr { width: 264px; height: 264px; margin: 16px auto; display: flex; align-items: center; justify-content: center; background: #f7f7f7; border-radius: 8px; }
  #qr img { width: 264px; height: 264px; image-rendering: pixelated; }
  #status { font-weight: 600; margin: 12px 0; }
  #status.connected { color: #008069; font-size: 1.2rem; }
  #status.problem { color: #b3261e; }
  ol { text-align: left; line-height: 1.6; padding-left: 20px; }
  #pairing { font-size: 1.6rem; letter-spacing: .2em; font-family: ui-monospace, monospace; }
  /* Drawn in CSS: a check-mark glyph may be missing from the phone's or kiosk's fonts. */
  .check { width: 96px; height: 96px; border-radius: 50%; background: #25d366; position: relative; }
  .check::after { content: ''; position: absolute; left: 34px; top: 18px; width: 22px; height: 44px; border: solid #fff; border-width: 0 8px 8px 0; transform: rotate(45deg); }
</style>
</head>
<body>
<main>
  <h1>Tautkan WhatsApp</h1>
  <div>Session <code>${sessionId}</code></div>
  <div id="qr" aria-live="polite">Memuat QR code…</div>
  <div id="pairing" hidden></div>
  <div id="status" role="status">Menunggu QR code dari WhatsApp…</div>
  <ol id="steps">
    <li>Buka WhatsApp di HP Anda</li>
    <li>Ketuk <b>Menu</b> atau <b>Setelan</b>, lalu <b>Perangkat tertaut</b></li>
    <li>Ketuk <b>Tautkan perangkat</b> dan arahkan kamera ke QR code ini</li>
  </ol>
</main>
<script>
(function () {
  var stateUrl = ${stateUrl};
  var qr = document.getElementById('qr');
  var statusLine = document.getElementById('status');
  var pairing = document.getElementById('pairing');
  var steps = document.getElementById('steps');
  var shownQr = null;
  var messages = {
    initializing: 'Menyiapkan koneksi ke WhatsApp…',
    qr: 'Scan QR code ini dengan WhatsApp di HP Anda',
    connecting: 'QR code berhasil di-scan, menghubungkan…',
    reconnecting: 'Koneksi terputus, mencoba menghubungkan kembali…',
    qr_timeout: 'QR code kedaluwarsa. Memuat QR code baru…',
    replaced: 'Session ini dibuka di tempat lain.',
    failed: 'Koneksi gagal. Restart session lalu coba lagi.',
    logged_out: 'Perangkat dikeluarkan dari WhatsApp. Buat session baru.',
    closed: 'Layanan sedang berhenti.'
  };
  function show(state) {
    if (state.isConnected) {
      var check = document.createElement('div');
      check.className = 'check';
      check.setAttribute('aria-label', 'Terhubung');
      qr.replaceChildren(check);
      pairing.hidden = true;
      steps.hidden = true;
      statusLine.className = 'connected';
      statusLine.textContent = 'WhatsApp terhubung' + (state.user && state.user.name ? ' sebagai ' + state.user.name : '') + '. Halaman ini boleh ditutup.';
      return false;
    }
    if (state.qrImage && state.qrImage !== shownQr) {
      var image = new Image();
      image.alt = 'QR code WhatsApp';
      image.src = state.qrImage;
      qr.replaceChildren(image);
      shownQr = state.qrImage;
    }
    pairing.hidden = !state.pairingCode;
    pairing.textContent = state.pairingCode || '';
    statusLine.className = ['replaced', 'failed', 'logged_out'].indexOf(state.status) >= 0 ? 'problem' : '';
    statusLine.textContent = messages[state.status] || state.status;
    return true;
  }
  function poll() {
    fetch(stateUrl, { cache: 'no-store' })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (!body.success) {
          statusLine.className = 'problem';
          statusLine.textContent = body.message;
          if (body.error === 'QR_LINK_INVALID' || body.error === 'QR_PAGE_KEY_REQUIRED' || body.error === 'SESSION_NOT_FOUND') return;
          return setTimeout(poll, 3000);
        }
        if (show(body.data)) setTimeout(poll, 2000);
      })
      .catch(function () {
        statusLine.className = 'problem';
        statusLine.textContent = 'Tidak dapat menghubungi server, mencoba lagi…';
        setTimeout(poll, 3000);
      });
  }
  poll();
})();
</script>
</body>
</html>
`
}
