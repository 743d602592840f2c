"""A real SMTP server for the tests (aiosmtpd): each message it accepts is written, as received,
to a file of the folder given; it may refuse the first messages with a 4xx, as a server that is
busy for a while and then accepts, and may ask for a login.

    python server.py --dir DIR [--refuse-first N] [--user U --password P]

Prints the port it listens on (127.0.0.1, chosen by the system), then serves until killed.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult


class Handler:
    def __init__(self, folder, refuse_first):
        self.folder = folder
        self.refuse_left = refuse_first
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_left > 0:
            self.refuse_left -= 1
            with open(os.path.join(self.folder, "refused.log"), "a") as log:
                log.write(",".join(envelope.rcpt_tos) + "\n")
            return "451 4.3.0 Service temporarily unavailable, try again later"
        self.count += 1
        name = os.path.join(self.folder, "%06d.eml" % self.count)
        raw = envelope.original_content or envelope.content
        with open(name + ".tmp", "wb") as out:
            out.write(raw)
        os.rename(name + ".tmp", name)
        # The same message decoded, for the tests to read: envelope, headers, both parts.
        message = email.message_from_bytes(raw, policy=email.policy.default)
        plain = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        decoded = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": getattr(session.auth_data, "login", b"").decode() or None,
            "headers": {k: str(v) for k, v in message.items()},
            "content_type": message.get_content_type(),
            "text": plain.get_content() if plain is not None else None,
            "html": html.get_content() if html is not None else None,
        }
        with open(name.replace(".eml", ".json.tmp"), "w") as out:
            json.dump(decoded, out, ensure_ascii=False)
        os.rename(name.replace(".eml", ".json.tmp"), name.replace(".eml", ".json"))
        return "250 OK"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, auth_data=auth_data)

    return check


async def main():
    # Plain-text AUTH is what the tests want (no certificate to make): no warning for it.
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--refuse-first", type=int, default=0)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Handler(args.dir, args.refuse_first)

    def factory():
        if args.user:
            return SMTP(
                handler,
                authenticator=authenticator(args.user, args.password),
                auth_required=True,
                auth_require_tls=False,
            )
        return SMTP(handler)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(factory, "127.0.0.1", args.port)
    print(server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
