# test_kraken.py: run with `python -m unittest test_kraken` (standard library only)
import hashlib
import json
import os
import signal
import ssl
import subprocess
import unittest
import urllib.error
import urllib.request

kraken = {}


def setUpModule():
    # Port 0 picks a free port; the JSON ready line says which (and the pid to stop).
    kraken['process'] = subprocess.Popen(
        ['npx', 'kraken-emulator', '--port', '0', '--in-memory', '--transition-ms', '0',
         '--print-ready', 'json'],
        stdout=subprocess.PIPE, text=True)
    ready = json.loads(kraken['process'].stdout.readline())
    kraken.update(ready)
    # Trust exactly this emulator: fetch its certificate and check it against the fingerprint
    # it announced on its own stdout, then verify every connection against it.
    pem = ssl.get_server_certificate(('127.0.0.1', ready['port']))
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    assert ':'.join(digest[i:i + 2] for i in range(0, 64, 2)) == ready['fingerprint']
    kraken['tls'] = ssl.create_default_context(cadata=pem)


def tearDownModule():
    os.kill(kraken['pid'], signal.SIGTERM)  # graceful: finishes in-flight requests, exits 0
    kraken['process'].wait(timeout=10)


def call(method, path, body=None, cookie=None):
    headers = {'Content-Type': 'application/json'} if body is not None else {}
    if cookie:
        headers['Cookie'] = cookie
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(kraken['url'] + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, context=kraken['tls']) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def login(username='haiadmin', password='krakenapi'):
    status, headers, _ = call('POST', '/apis/v2/login', {'username': username, 'password': password})
    assert status == 204, status
    return next(c.split(';')[0] for c in headers.get_all('Set-Cookie') if c.startswith('id='))


class KrakenTest(unittest.TestCase):
    def setUp(self):
        # Back to the fixture before every test; answers once the state is restored.
        status, _, _ = call('POST', '/_emulator/reset')
        self.assertEqual(status, 200)

    def test_lists_streams(self):
        status, _, body = call('GET', '/apis/v2/streams', cookie=login())
        self.assertEqual(status, 200)
        self.assertGreater(len(json.loads(body)['stream_list']), 0)

    def test_reset_undoes_a_change(self):
        cookie = login()
        status, _, _ = call('POST', '/apis/v2/inputs', cookie=cookie, body={
            'name': 'camera-7', 'protocol': 'ts_udp', 'url': 'udp://239.1.1.7:5000'})
        self.assertEqual(status, 201)
        call('POST', '/_emulator/reset')
        status, _, body = call('GET', '/apis/v2/inputs', cookie=login())
        self.assertNotIn('camera-7', [i['name'] for i in json.loads(body)['input_list']])

    def test_viewer_may_not_create(self):
        status, _, body = call('POST', '/apis/v2/inputs', cookie=login('user'), body={
            'name': 'camera-8', 'protocol': 'ts_udp', 'url': 'udp://239.1.1.8:5000'})
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body)['error']['type'], 'SessionAuthorization')


if __name__ == '__main__':
    unittest.main()
