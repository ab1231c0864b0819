export interface paths {
    "/": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Service information
         * @description Name, version and links to the API documentation and health endpoint (absolute under PUBLIC_URL when it is set, otherwise relative to this root). No API key needed.
         */
        get: operations["getServiceInfo"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Health check
         * @description Overall status (ok or degraded), uptime, memory and the checks each part of the service reports (stateStore, whatsappVersion, sessions, webhooks, counters; a check that fails is degraded with an `error`). With REDIS_URL also `instance` (this instance's id, URL and sessions it holds) and `cluster` (the live instances; null while Redis cannot be reached, and the status is degraded). No API key needed; answers 200 even when degraded so a load balancer can read the body.
         */
        get: operations["getHealth"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/create": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a session
         * @description Starts linking a WhatsApp account. Fetch the QR from /api/sessions/{sessionId}/qr (or open qr-page), or pass phoneNumber to get an 8-character pairing code to type on the phone instead; when WhatsApp gives no code (502, 503) the session is not kept, so the same create can be retried. 429 SESSION_PENDING_LIMIT when SESSION_MAX_PENDING sessions already wait for their first scan; 409 SESSION_LIMIT at SESSION_MAX sessions.
         */
        post: operations["createSession"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * List sessions
         * @description Every session, keyed by session id, with its status and isConnected.
         */
        get: operations["listSessions"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Session status
         * @description One session: status, isConnected, linked user, whether a QR is on offer, last disconnect.
         */
        get: operations["getSessionStatus"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}/qr": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * QR code to link the session
         * @description The QR on offer (raw text and PNG data URL), waiting a few seconds for WhatsApp to offer one (503 QR_NOT_AVAILABLE with Retry-After when it has not yet). After qr_timeout this starts a new QR cycle. ?format=png answers the image itself, for links already in use; a generated client calls getSessionQrPng (…/qr.png) for the image. 409 when the session is already connected.
         */
        get: operations["getSessionQr"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}/qr.png": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * QR code to link the session, as a PNG image
         * @description The QR on offer as an image/png body, like GET /api/sessions/{sessionId}/qr?format=png: waits a few seconds for WhatsApp to offer one (503 QR_NOT_AVAILABLE with Retry-After when it has not yet), starts a new QR cycle after qr_timeout. 409 when the session is already connected.
         */
        get: operations["getSessionQrPng"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}/qr-page": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * QR page for a browser
         * @description A self-contained HTML page (Indonesian) that shows the QR and follows the session live until the phone is connected. Needs the API key, or the token of a qr-link: a browser cannot send the key header, so ask POST /api/sessions/{sessionId}/qr-link for a URL and open that. Without either: 401 `QR_PAGE_KEY_REQUIRED`, which says so; a wrong or expired token: 401 `QR_LINK_INVALID`.
         */
        get: operations["getQrPage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}/qr-page/state": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * State polled by the QR page
         * @description Status and current QR image of one session, for the qr-page. Needs the API key or a qr-link token. Starts a new QR cycle after qr_timeout.
         */
        get: operations["getQrPageState"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}/qr-link": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Signed QR page link
         * @description A qr-page URL that works without the API key for a few minutes (10 by default), to hand to the phone's owner. Set PUBLIC_URL (with the path a reverse proxy publishes the service under, if any) to get an absolute URL.
         */
        post: operations["createQrLink"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}/pairing-code": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Pairing code instead of a QR
         * @description Asks WhatsApp for an 8-character code for this phone number; type it on the phone under Linked devices → Link with phone number. 409 when already connected; 502 PAIRING_CODE_FAILED when WhatsApp refuses, 503 QR_NOT_AVAILABLE when the socket is not ready yet (both with Retry-After).
         */
        post: operations["requestPairingCode"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}/restart": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Restart a session
         * @description Opens a new connection: a linked session reconnects with the same credentials, without a new scan; one that never linked (QR or pairing code) starts linking again with fresh credentials and a new QR.
         */
        put: operations["restartSession"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/sessions/{sessionId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete a session
         * @description Logs the device out of WhatsApp when connected (it disappears from the phone's linked devices), deletes its credentials and forgets the session.
         */
        delete: operations["deleteSession"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/messages/format-phone/{phone}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Check and format a phone number
         * @description Shows how a number will be sent to: 08123456789 and 8123456789 become 628123456789, a number with its country code stays. +62… and numbers with dashes or spaces are refused with a 400 that shows the right format. `valid` is the numbering plan's opinion; sends check WhatsApp itself.
         */
        get: operations["formatPhone"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/messages/{sessionId}/text": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a text message
         * @description Checks that the number is on WhatsApp (422 `Nomor tidak terdaftar di WhatsApp` otherwise), both in a turn of the session's queue, which spaces messages and lookups by SEND_MIN_GAP_MS. A send that cannot start within SEND_MAX_WAIT_MS (or beyond SEND_QUEUE_MAX waiting) is refused at once: 429 SEND_QUEUE_FULL with Retry-After, the time the queued sends need. 503 SEND_QUEUE_CLOSED while the service shuts down. 409 `Session tidak terhubung` when the session is not connected.
         */
        post: operations["sendText"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/messages/{sessionId}/media": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send an image, video, audio or document
         * @description multipart/form-data with `to`, `caption` (optional) and `file`. The type is read from the file's bytes, never from its name or content type: anything outside the accepted list is 415 `Tipe file <type> tidak didukung`; a file over MEDIA_MAX_BYTES is 413. Sent as image, video, audio or document like a text message (number check, queue).
         */
        post: operations["sendMedia"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/messages/{sessionId}/otp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a one-time password
         * @description Sends a fresh code with the Indonesian template; it replaces any earlier code for the number. Per number one send per OTP_COOLDOWN_SECONDS and at most OTP_MAX_PER_HOUR an hour: 429 with Retry-After and `retryAfter` (seconds). The session is checked first (404, 409). The number must be on WhatsApp (422); that answer counts against the number's cooldown like a send, so the API cannot be used to probe numbers. Any other failed send (429 SEND_QUEUE_FULL when the session's queue cannot start it within SEND_MAX_WAIT_MS, 502, 503) leaves no valid code and does not count. `expiresAt` runs from when WhatsApp accepted the message. The code is never in the response unless OTP_EXPOSE_CODE=true.
         */
        post: operations["sendOtp"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/otp/send": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Send a one-time password through a session the service picks
         * @description Like POST /api/messages/{sessionId}/otp, but the sender is picked: a connected session that already chats with the number first (existing chats are delivered even from a restricted account), else an unrestricted one, the least recently used. When WhatsApp refuses the message (463, the account may not start new chats) the next session is tried; a refused send is never retried on the same session. No session can send: 503 NO_SENDER_AVAILABLE with Retry-After. `sessionId` names the session used. With REDIS_URL the sessions of every instance count: the send runs on the instance that holds the session picked.
         */
        post: operations["sendOtpFromPool"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/otp/inbound": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Start a user-first verification
         * @description Answers a code, the text that holds it and a wa.me link that opens WhatsApp with that text ready to send to the session's number. When a message holding the code reaches the session from `to` (from anyone when `to` is omitted) the verification is approved and `otp.verified` fires with method "inbound". WhatsApp never counts a chat the user started as reaching out, so this works while the account is restricted, and afterwards the chat exists: later OTPs to the number are not first contact.
         */
        post: operations["startInboundVerification"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/otp/verifications/{verificationId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A verification and its status
         * @description Every OTP answer (and POST /api/otp/inbound) has a verificationId. `status` is pending until the right code arrives (approved, with `phone` and `approvedAt`), or expired, max_attempts (too many wrong codes), canceled (DELETE, or a newer code for the same number) or failed (WhatsApp reported the message failed). Readable for a day after it ended; unknown ids are 404 VERIFICATION_NOT_FOUND.
         */
        get: operations["getVerification"];
        put?: never;
        post?: never;
        /**
         * Cancel a pending verification
         * @description Its code no longer verifies. A verification that already ended keeps its status.
         */
        delete: operations["cancelVerification"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/otp/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Verify a one-time password
         * @description The right code is accepted once, then spent. A wrong code is 400 OTP_INVALID with `attemptsLeft`; after OTP_MAX_ATTEMPTS wrong codes the code is void (429 OTP_TOO_MANY_ATTEMPTS); an expired code is 410 OTP_EXPIRED; no code for the number is 404 OTP_NOT_FOUND. 503 STATE_STORE_UNAVAILABLE when REDIS_URL is set and Redis cannot be reached (nothing changed; retry after Retry-After).
         */
        post: operations["verifyOtp"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/webhook/stats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Webhook delivery statistics
         * @description Whether webhooks are configured, to how many URLs, deliveries delivered and failed (kept across restarts), pending and retrying; and since this process started: per event, the last error and the last successful delivery.
         */
        get: operations["getWebhookStats"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/messages/{sessionId}/status/{messageId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Delivery status of a sent message
         * @description sent, delivered, read or failed, with the time of each step, for a message (text, media or OTP) this service sent. Kept for 24 hours after the last change, across restarts; 404 after that.
         */
        get: operations["getMessageStatus"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/metrics": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Prometheus metrics
         * @description Prometheus text format: otp_sent_total, otp_verified_total{result}, messages_sent_total{type,result}, http_request_duration_seconds{method,route,status_code}, sessions{state}, session_reconnects_total{reason}, webhook_deliveries_total{result}, and the Node.js process defaults. Needs the API key like every other route: give the scraper the key as a bearer token.
         */
        get: operations["getMetrics"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /**
         * ErrorResponse
         * @description An error: `error` is the machine code, `message` the Indonesian text
         */
        ErrorResponse: {
            /** @enum {boolean} */
            success: false;
            /** @description Indonesian, meant for people; clients may match on it (see docs/troubleshooting.md) */
            message: string;
            /** @description Machine-readable error code, e.g. SESSION_NOT_CONNECTED */
            error: string;
            /** @description Seconds to wait before trying again (429) */
            retryAfter?: number;
            /** @description Wrong OTP codes still allowed before the code is void */
            attemptsLeft?: number;
        };
        /**
         * MessageStatusResponse
         * @description The message's delivery status
         */
        MessageStatusResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                messageId: string;
                sessionId: string;
                /** @description Recipient phone number, digits only */
                to: string;
                /** @description otp for an OTP message: an OTP's delivery status is its message's */
                type: "text" | "image" | "video" | "audio" | "document" | "otp";
                /** @description sent (WhatsApp accepted it) → delivered (reached the phone) → read; or failed. Only moves forward. */
                status: "sent" | "delivered" | "read" | "failed";
                /** Format: date-time */
                sentAt: string;
                /** @description When it reached the phone; set with readAt when WhatsApp reports only the read */
                deliveredAt: string | null;
                /** @description When the recipient read it (or played a voice note or video) */
                readAt: string | null;
                /** @description When WhatsApp reported it failed */
                failedAt: string | null;
            };
        };
        /**
         * FormatPhoneResponse
         * @description The number as messages are sent to it
         */
        FormatPhoneResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                /** @description The number as given */
                original: string;
                /**
                 * @description Digits with the country code, as messages are sent to it
                 * @example 628123456789
                 */
                formatted: string;
                /**
                 * @description The WhatsApp address of the number
                 * @example 628123456789@s.whatsapp.net
                 */
                jid: string;
                /** @description Whether the number fits its country's numbering plan (informative: sends check WhatsApp itself) */
                valid: boolean;
            };
        };
        /** SendMediaBody */
        SendMediaBody: {
            /**
             * @description Phone number, digits only: 08123456789, 8123456789 or 628123456789 (not +62…, no dashes or spaces)
             * @example 08123456789
             */
            to: string;
            /** @description Shown under an image, video or document; audio has none */
            caption?: string;
            /**
             * Format: binary
             * @description The file. Its type is read from its bytes; JPEG, PNG, GIF, WebP, MP4, AVI, MOV, WMV, 3GP, MP3, WAV, OGG, M4A, MPEG, PDF, DOC, DOCX, XLS, XLSX, TXT and CSV are accepted
             */
            file: string;
        };
        /**
         * SendMediaResponse
         * @description WhatsApp accepted the file
         */
        SendMediaResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                /** @description WhatsApp message id; delivery and read receipts report it */
                messageId: string;
                /** @description The number sent to, with its country code */
                to: string;
                /** @description The WhatsApp address sent to */
                jid: string;
                /** @description How WhatsApp shows it; AVI and WMV go as documents because WhatsApp cannot play them inline */
                kind: "image" | "video" | "audio" | "document";
                /** @description The type read from the file's bytes */
                mimetype: string;
                /** @description The name the recipient sees for a document */
                fileName: string;
                /** @description Bytes sent */
                size: number;
            };
        };
        /** SendTextBody */
        SendTextBody: {
            /**
             * @description Phone number, digits only: 08123456789, 8123456789 or 628123456789 (not +62…, no dashes or spaces)
             * @example 08123456789
             */
            to: string;
            /**
             * @description The text to send: 1-65536 characters, not only spaces
             * @example Test message
             */
            message: string;
        };
        /**
         * SendTextResponse
         * @description WhatsApp accepted the message
         */
        SendTextResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                /** @description WhatsApp message id; delivery and read receipts report it */
                messageId: string;
                /** @description The number sent to, with its country code */
                to: string;
                /** @description The WhatsApp address sent to */
                jid: string;
            };
        };
        /** InboundVerificationBody */
        InboundVerificationBody: {
            /**
             * @description Phone number, digits only: 08123456789, 8123456789 or 628123456789 (not +62…, no dashes or spaces)
             * @example 08123456789
             */
            to?: string;
            /** @description The account the user writes to; one is picked when omitted */
            sessionId?: string;
            /** @description Seconds the code stays valid; OTP_TTL_SECONDS (300) by default */
            expiresIn?: number;
            /**
             * @description Name shown in the message; OTP_APP_NAME by default. One line of 1-40 letters, digits, spaces and . , & ' ( ) + ! _ - (no line breaks, no links)
             * @example Toko Maju
             */
            appName?: string;
        };
        /**
         * InboundVerificationResponse
         * @description A user-first verification: show waLink (or text) to the user
         */
        InboundVerificationResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                verificationId: string;
                /** @description The code the user sends; already in `text` */
                code: string;
                /** @description The text the user sends to the session's number */
                text: string;
                /** @description https://wa.me/<session number>?text=<text>: opens WhatsApp with the text ready to send */
                waLink: string;
                sessionId: string;
                /** Format: date-time */
                expiresAt: string;
            };
        };
        /** SendOtpBody */
        SendOtpBody: {
            /**
             * @description Phone number, digits only: 08123456789, 8123456789 or 628123456789 (not +62…, no dashes or spaces)
             * @example 08123456789
             */
            to: string;
            /** @description Digits in the code; OTP_LENGTH (6) by default */
            length?: number;
            /** @description Seconds the code stays valid; OTP_TTL_SECONDS (300) by default */
            expiresIn?: number;
            /**
             * @description Name shown in the message; OTP_APP_NAME by default. One line of 1-40 letters, digits, spaces and . , & ' ( ) + ! _ - (no line breaks, no links)
             * @example Toko Maju
             */
            appName?: string;
        };
        /**
         * SendOtpResponse
         * @description WhatsApp accepted the OTP message
         */
        SendOtpResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                /** @description WhatsApp message id of the OTP message */
                messageId: string;
                /** @description The number sent to, with its country code */
                to: string;
                /**
                 * Format: date-time
                 * @description After this the code is refused as expired
                 */
                expiresAt: string;
                /**
                 * Format: date-time
                 * @description The earliest time a new code can be sent to this number
                 */
                resendAfter: string;
                /** @description The code itself, only when the operator set OTP_EXPOSE_CODE=true (testing) */
                code?: string;
                /** @description Follow the code with GET /api/otp/verifications/{verificationId} */
                verificationId: string;
                /** @description The session (WhatsApp account) that sent it */
                sessionId: string;
            };
        };
        /**
         * Verification
         * @description One OTP or inbound verification and where it stands
         */
        Verification: {
            verificationId: string;
            to: string | null;
            /** @description outbound: the service sent the code; inbound: the user sends it to the service */
            method: "outbound" | "inbound";
            /** @description pending until approved (the right code), expired, max_attempts (too many wrong codes), canceled (DELETE, or a newer code for the number) or failed */
            status: "pending" | "approved" | "expired" | "max_attempts" | "canceled" | "failed";
            sessionId: string;
            /** Format: date-time */
            createdAt: string;
            /** Format: date-time */
            expiresAt: string;
            approvedAt: string | null;
            phone: string | null;
        };
        /**
         * VerificationResponse
         * @description The verification
         */
        VerificationResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            /**
             * Verification
             * @description One OTP or inbound verification and where it stands
             */
            data: {
                verificationId: string;
                to: string | null;
                /** @description outbound: the service sent the code; inbound: the user sends it to the service */
                method: "outbound" | "inbound";
                /** @description pending until approved (the right code), expired, max_attempts (too many wrong codes), canceled (DELETE, or a newer code for the number) or failed */
                status: "pending" | "approved" | "expired" | "max_attempts" | "canceled" | "failed";
                sessionId: string;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                expiresAt: string;
                approvedAt: string | null;
                phone: string | null;
            };
        };
        /** VerifyOtpBody */
        VerifyOtpBody: {
            /**
             * @description Phone number, digits only: 08123456789, 8123456789 or 628123456789 (not +62…, no dashes or spaces)
             * @example 08123456789
             */
            to: string;
            /**
             * @description The code the user typed, as text (leading zeros count)
             * @example 123456
             */
            code: string;
        };
        /**
         * VerifyOtpResponse
         * @description The code is right; it is now spent
         */
        VerifyOtpResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                /** @enum {boolean} */
                verified: true;
                /** @description The number verified, with its country code */
                to: string;
            };
        };
        /**
         * CreateSessionBody
         * @example {
         *       "sessionId": "test-session"
         *     }
         */
        CreateSessionBody: {
            /**
             * @description Session id: 1-64 letters, digits, "_" or "-"
             * @example test-session
             */
            sessionId: string;
            /** @description Optional. Only to link with a pairing code instead of a QR: the number of the phone to link, digits only (08123456789, 8123456789 or 628123456789); the answer's pairingCode is typed on that phone. Leave it out to scan a QR. */
            phoneNumber?: string;
        };
        /**
         * DeleteSessionResponse
         * @description The session is gone
         */
        DeleteSessionResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                sessionId: string;
                loggedOut: boolean;
            };
        };
        /** PairingCodeBody */
        PairingCodeBody: {
            /**
             * @description Phone number, digits only: 08123456789, 8123456789 or 628123456789 (not +62…, no dashes or spaces)
             * @example 08123456789
             */
            phoneNumber: string;
        };
        /**
         * PairingCodeResponse
         * @description The code to type on the phone
         */
        PairingCodeResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                sessionId: string;
                phoneNumber: string;
                /** @description Type it on the phone: WhatsApp → Perangkat tertaut → Tautkan dengan nomor telepon */
                pairingCode: string;
            };
        };
        /** QrLinkBody */
        QrLinkBody: {
            /**
             * @description How long the link works; 10 minutes by default
             * @default 600
             */
            expiresInSeconds: number;
        };
        /**
         * QrLinkResponse
         * @description A signed qr-page link
         */
        QrLinkResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                sessionId: string;
                /** @description The qr-page URL with its signed token; absolute when PUBLIC_URL is set */
                url: string;
                /** Format: date-time */
                expiresAt: string;
            };
        };
        /**
         * QrPageStateResponse
         * @description The session's state and current QR, for the page
         */
        QrPageStateResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                sessionId: string;
                status: string;
                isConnected: boolean;
                qrImage: string | null;
                pairingCode: string | null;
                user: {
                    id: string;
                    name: string | null;
                } | null;
            };
        };
        /**
         * QrResponse
         * @description The QR on offer, as text and as a PNG data URL
         */
        QrResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                sessionId: string;
                /** @description The raw QR text, for rendering it yourself */
                qr: string;
                /** @description PNG data URL, ready for an <img src> */
                qrImage: string;
            };
        };
        /**
         * Session
         * @description A linked (or linking) WhatsApp account
         */
        Session: {
            sessionId: string;
            /** @description initializing → qr (waiting for a scan or pairing code) → connecting → connected; reconnecting after a network loss; qr_timeout when nobody scanned; replaced when another client took over; failed when WhatsApp refused or reconnecting gave up */
            status: "initializing" | "qr" | "connecting" | "connected" | "reconnecting" | "qr_timeout" | "logged_out" | "replaced" | "failed" | "closed";
            isConnected: boolean;
            user: {
                id: string;
                name: string | null;
            } | null;
            qrAvailable: boolean;
            pairingCode: string | null;
            reconnectAttempts: number;
            lastDisconnect: {
                /** @description restart-required, logged-out, replaced, qr-timeout, forbidden, multidevice-mismatch or connection-lost */
                kind: string;
                statusCode: number | null;
                message: string;
                /** Format: date-time */
                at: string;
            } | null;
            /** Format: date-time */
            createdAt: string;
            connectedAt: string | null;
            /** Format: date-time */
            updatedAt: string;
            restriction?: {
                /**
                 * @description WhatsApp refuses this account's messages to numbers it has no chat with (error 463); existing chats still work
                 * @enum {string}
                 */
                newChats: "blocked";
                until: string | null;
                /** @description WhatsApp's enforcement type (e.g. BIZ_QUALITY, DEFAULT), NEW_CHAT_CAP_CAPPED, or REFUSED_463 when only a refusal told us */
                reason: string;
            } | null;
        };
        /**
         * SessionListResponse
         * @description Every session
         */
        SessionListResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                /** @description Keyed by session id */
                sessions: {
                    [key: string]: components["schemas"]["Session"];
                };
                total: number;
            };
        };
        /**
         * SessionResponse
         * @description The session
         */
        SessionResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: components["schemas"]["Session"];
        };
        /**
         * HealthResponse
         * @description Health, also when degraded (see data.status)
         */
        HealthResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                status: "ok" | "degraded";
                version: string;
                uptimeSeconds: number;
                /** @description Read at most once a second: answers within the same second share one reading */
                memory: {
                    rssBytes: number;
                    heapUsedBytes: number;
                };
                /** @description What each part of the service reports; one degraded part degrades the whole */
                checks: {
                    /** @description Whether the state store (OTP records, limits, deliveries) answers a read */
                    stateStore: {
                        status: "ok" | "degraded";
                        /** @description embedded: DATA_DIR on this machine; redis: REDIS_URL */
                        kind?: "embedded" | "redis";
                        /** @description Why the check failed, when it did; its other fields may then be missing */
                        error?: string;
                    };
                    /** @description The WhatsApp Web version in use */
                    whatsappVersion: {
                        status: "ok" | "degraded";
                        /**
                         * @description The WhatsApp Web version new sockets announce
                         * @example 2.3000.1023456789
                         */
                        version?: string;
                        /** @description fetched from WA_VERSION_URL, bundled with the WhatsApp library, or configured by WA_VERSION */
                        source?: "fetched" | "bundled" | "configured";
                        /** @description When the version was fetched; null unless source is fetched */
                        fetchedAt?: string | null;
                        /** @description Why the last fetch failed; null when it worked or none was made */
                        lastError?: string | null;
                        /** @description Why the check failed, when it did; its other fields may then be missing */
                        error?: string;
                    };
                    /** @description Sessions by status; degraded while a session failed, was replaced or timed out waiting for a scan */
                    sessions: {
                        status: "ok" | "degraded";
                        /** @description Sessions this instance runs */
                        total?: number;
                        connected?: number;
                        /** @description Not yet linked, waiting for a QR scan or pairing code */
                        waitingForScan?: number;
                        /** @description Keyed by session status (connected, qr, reconnecting, ...); statuses with no session are left out */
                        byStatus?: {
                            [key: string]: number;
                        };
                        /** @description Sessions found in AUTH_STATE_DIR at start, and how many of them have been opened */
                        restore?: {
                            total: number;
                            done: number;
                            pending: number;
                        };
                        /** @description Why the check failed, when it did; its other fields may then be missing */
                        error?: string;
                    };
                    /** @description Webhook deliveries; degraded after several failed attempts in a row */
                    webhooks: {
                        status: "ok" | "degraded";
                        /** @description Whether WEBHOOK_URL is set */
                        configured?: boolean;
                        /** @description Deliveries not yet delivered or failed, retrying ones included */
                        pending?: number;
                        /** @description Pending deliveries that failed at least once and wait for another attempt */
                        retrying?: number;
                        /** @description Failed attempts since the last delivery, over every URL */
                        failedAttemptsInARow?: number;
                        lastError?: {
                            /** @example HTTP 500 */
                            message: string;
                            /** Format: date-time */
                            at: string;
                            event: string;
                            url: string;
                        } | null;
                        lastDeliveredAt?: string | null;
                        /** @description Why the check failed, when it did; its other fields may then be missing */
                        error?: string;
                    };
                    /** @description The monitoring counters of the troubleshooting guide (best practices 4) */
                    counters: {
                        status: "ok" | "degraded";
                        /** @description OTP messages sent since start */
                        totalOTPSent?: number;
                        /** @description Messages (OTP, text, media) that failed to send since start */
                        failedRequests?: number;
                        /** @description Sessions connected now */
                        activeSessions?: number;
                        /** @description Why the check failed, when it did; its other fields may then be missing */
                        error?: string;
                    };
                };
                instance?: {
                    id: string;
                    url: string;
                    sessionsHeld: number;
                };
                /** @description The instances alive in Redis; null while Redis cannot be reached */
                cluster?: {
                    liveInstances: number;
                    instances: {
                        id: string;
                        url: string;
                    }[];
                } | null;
            };
        };
        /**
         * ServiceInfoResponse
         * @description Name, version and links
         */
        ServiceInfoResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                name: string;
                version: string;
                description: string;
                links: {
                    docs: string;
                    openapi: string;
                    health: string;
                };
            };
        };
        /**
         * WebhookStatsResponse
         * @description Webhook delivery counts since start
         */
        WebhookStatsResponse: {
            /** @enum {boolean} */
            success: true;
            message?: string;
            data: {
                /** @description Whether WEBHOOK_URL is set */
                configured: boolean;
                /** @description How many URLs each event is sent to */
                urlCount: number;
                /** @description Deliveries answered with a 2xx, since start */
                delivered: number;
                /** @description Deliveries given up on (a 4xx, or retries exhausted), since start */
                failed: number;
                /** @description Pending deliveries that failed at least once and wait for another attempt */
                retrying: number;
                /** @description Deliveries not yet delivered or failed, retrying ones included */
                pending: number;
                lastError: {
                    /** @example HTTP 500 */
                    message: string;
                    /** Format: date-time */
                    at: string;
                    event: string;
                    url: string;
                } | null;
                lastDeliveredAt: string | null;
                /** @description Keyed by event name, e.g. otp.sent */
                byEvent: {
                    [key: string]: {
                        delivered: number;
                        failed: number;
                    };
                };
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    getServiceInfo: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Name, version and links */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ServiceInfoResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getHealth: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Health, also when degraded (see data.status) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HealthResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    createSession: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "sessionId": "test-session"
                 *     }
                 */
                "application/json": components["schemas"]["CreateSessionBody"];
            };
        };
        responses: {
            /** @description The session */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session's state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description WhatsApp did not accept the message (MESSAGE_SEND_FAILED) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    listSessions: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Every session */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionListResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getSessionStatus: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getSessionQr: {
        parameters: {
            query?: {
                /** @description png answers the QR as an image/png body (kept for links already in use; generated clients call getSessionQrPng) */
                format?: "json" | "png";
            };
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The QR as JSON; as image/png only with ?format=png */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QrResponse"];
                    "image/png": string;
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session's state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getSessionQrPng: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The QR as a PNG image */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "image/png": string;
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session's state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getQrPage: {
        parameters: {
            query?: {
                /** @description Signed token from POST /api/sessions/{sessionId}/qr-link */
                token?: string;
            };
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description HTML page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/html": string;
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getQrPageState: {
        parameters: {
            query?: {
                /** @description Signed token from POST /api/sessions/{sessionId}/qr-link */
                token?: string;
            };
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session's state and current QR, for the page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QrPageStateResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    createQrLink: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["QrLinkBody"];
            };
        };
        responses: {
            /** @description A signed qr-page link */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["QrLinkResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    requestPairingCode: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PairingCodeBody"];
            };
        };
        responses: {
            /** @description The code to type on the phone */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PairingCodeResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session's state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description WhatsApp did not accept the message (MESSAGE_SEND_FAILED) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    restartSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SessionResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    deleteSession: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The session is gone */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeleteSessionResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    formatPhone: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /**
                 * @description The number to check, as a user would type it
                 * @example 08123456789
                 */
                phone: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The number as messages are sent to it */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["FormatPhoneResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    sendText: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SendTextBody"];
            };
        };
        responses: {
            /** @description WhatsApp accepted the message */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SendTextResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session's state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The number is not on WhatsApp (PHONE_NOT_ON_WHATSAPP) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description WhatsApp did not accept the message (MESSAGE_SEND_FAILED) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    sendMedia: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": components["schemas"]["SendMediaBody"];
            };
        };
        responses: {
            /** @description WhatsApp accepted the file */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SendMediaResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session's state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The body, a form field or the file is over its limit */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description A content type or file type that is not accepted */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The number is not on WhatsApp (PHONE_NOT_ON_WHATSAPP) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description WhatsApp did not accept the message (MESSAGE_SEND_FAILED) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    sendOtp: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SendOtpBody"];
            };
        };
        responses: {
            /** @description WhatsApp accepted the OTP message */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SendOtpResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session's state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The number is not on WhatsApp (PHONE_NOT_ON_WHATSAPP) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description WhatsApp did not accept the message (MESSAGE_SEND_FAILED) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    sendOtpFromPool: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SendOtpBody"];
            };
        };
        responses: {
            /** @description WhatsApp accepted the OTP message */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SendOtpResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The number is not on WhatsApp (PHONE_NOT_ON_WHATSAPP) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description WhatsApp did not accept the message (MESSAGE_SEND_FAILED) */
            502: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    startInboundVerification: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["InboundVerificationBody"];
            };
        };
        responses: {
            /** @description A user-first verification: show waLink (or text) to the user */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InboundVerificationResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session's state does not allow this now (SESSION_NOT_CONNECTED, SESSION_EXISTS, SESSION_ALREADY_CONNECTED, SESSION_BUSY, ...) */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getVerification: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The verificationId an OTP or inbound verification answered with */
                verificationId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The verification */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VerificationResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    cancelVerification: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description The verificationId an OTP or inbound verification answered with */
                verificationId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The verification */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VerificationResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    verifyOtp: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["VerifyOtpBody"];
            };
        };
        responses: {
            /** @description The code is right; it is now spent */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["VerifyOtpResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The OTP expired (OTP_EXPIRED): ask for a new code */
            410: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getWebhookStats: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Webhook delivery counts since start */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["WebhookStatsResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getMessageStatus: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                /** @description Session id: 1-64 letters, digits, "_" or "-" */
                sessionId: string;
                /** @description The messageId answered when the message was sent */
                messageId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The message's delivery status */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MessageStatusResponse"];
                };
            };
            /** @description The request breaks a rule: `error` says which (VALIDATION_FAILED, PHONE_REQUIRED, PHONE_INVALID_FORMAT, OTP_INVALID, ...) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Not found: `error` says what (SESSION_NOT_FOUND, MESSAGE_NOT_FOUND, OTP_NOT_FOUND, QR_NOT_AVAILABLE) */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description The session is shutting down (SEND_QUEUE_CLOSED) */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
    getMetrics: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Prometheus text exposition format 0.0.4 */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "text/plain": string;
                };
            };
            /** @description No valid API key (X-API-Key header or Authorization: Bearer) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
            /** @description Too many requests: wait `retryAfter` seconds (also the Retry-After header) */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ErrorResponse"];
                };
            };
        };
    };
}
