# One libnbd connection driven over stdin/stdout, one JSON object per line each way. The
# property tests send thousands of requests per export; starting nbdsh for each would cost
# more than the requests. Run with Debian's /usr/bin/python3 (it has the nbd module).
#
#   argv: URI META STRUCTURED   (META/STRUCTURED: 1 or 0)
#   first line out: {"ok": INFO} once connected, or {"error": ...} and exit 1
#   then per line in {"op": NAME, ...}: {"ok": RESULT} or {"error": MESSAGE, "errno": NAME}
# Bytes travel as base64.
import base64
import hashlib
import json
import sys

import nbd


def b64(data):
    return base64.b64encode(data).decode('ascii')


def info(h, _req):
    return {
        'size': h.get_size(),
        'structured': h.get_structured_replies_negotiated(),
        'meta': h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
        'readonly': h.is_read_only(),
        'flush': h.can_flush(),
        'fua': h.can_fua(),
        'trim': h.can_trim(),
        'zero': h.can_zero(),
        'fastZero': h.can_fast_zero(),
        'cache': h.can_cache(),
        'multiConn': h.can_multi_conn(),
    }


def content(req, data):
    # Sending a digest instead of the bytes keeps big reads cheap; the test asks for the
    # bytes again only when the digest does not match.
    if req.get('digest'):
        return {'sha256': hashlib.sha256(data).hexdigest()}
    return {'data': b64(data)}


def pread(h, req):
    return content(req, h.pread(req['count'], req['offset'], req['flags']))


def pread_structured(h, req):
    chunks = []

    # The binding's signature has varied between libnbd releases after `status`.
    def chunk(subbuf, offset, status, *_rest):
        chunks.append([offset, len(subbuf), status])
        return 0

    data = h.pread_structured(req['count'], req['offset'], chunk, req['flags'])
    return {**content(req, data), 'chunks': chunks}


def block_status(h, req):
    calls = []

    def extent(context, offset, entries, *_rest):
        calls.append([context, offset, list(entries)])
        return 0

    h.block_status(req['count'], req['offset'], extent, req['flags'])
    return {'calls': calls}


def pwrite(h, req):
    h.pwrite(base64.b64decode(req['data']), req['offset'], req['flags'])


def zero(h, req):
    h.zero(req['count'], req['offset'], req['flags'])


def trim(h, req):
    h.trim(req['count'], req['offset'], req['flags'])


def flush(h, req):
    h.flush(req['flags'])


def cache(h, req):
    h.cache(req['count'], req['offset'], req['flags'])


OPS = {
    'info': info,
    'pread': pread,
    'pread_structured': pread_structured,
    'block_status': block_status,
    'pwrite': pwrite,
    'zero': zero,
    'trim': trim,
    'flush': flush,
    'cache': cache,
}


def reply(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def failure(err):
    return {'error': err.string, 'errno': err.errno}


def main():
    uri, meta, structured = sys.argv[1], sys.argv[2] == '1', sys.argv[3] == '1'
    h = nbd.NBD()
    # nbds:// URIs name their certificates folder or PSK file, which libnbd reads only when allowed.
    h.set_uri_allow_local_file(True)
    h.set_request_structured_replies(structured)
    if meta:
        h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
    try:
        h.connect_uri(uri)
    except nbd.Error as err:
        reply(failure(err))
        sys.exit(1)
    reply({'ok': info(h, None)})
    for line in sys.stdin:
        req = json.loads(line)
        try:
            reply({'ok': OPS[req['op']](h, req)})
        except nbd.Error as err:
            reply(failure(err))
    h.shutdown()


main()
