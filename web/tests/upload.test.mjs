// Upload progress (issue 11, "uploads show progress too"): api.upload reports the bytes sent
// from XMLHttpRequest's upload progress events, sends the CSRF header, answers the file, and
// turns a refusal into ApiError. A fake XMLHttpRequest stands in for the browser's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uploadFile, uploadFraction, setCsrfToken, ApiError } from '../static/js/api.js';

function fakeXhr(answers, log) {
  return class FakeXhr {
    constructor() {
      this.headers = {};
      this.upload = {};
      log.push(this);
    }
    open(method, url) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(name, value) {
      this.headers[name] = value;
    }
    send(body) {
      const [status, text] = answers.shift();
      const total = body.size;
      queueMicrotask(() => {
        for (const loaded of [0, total / 4, total / 2, total]) this.upload.onprogress({ loaded, total, lengthComputable: true });
        this.status = status;
        this.responseText = text;
        if (status === 0) this.onerror();
        else this.onload();
      });
    }
  };
}

const blob = () => new Blob([new Uint8Array(4000)], { type: 'application/octet-stream' });

test('upload progress goes 0 → 1 in order, with the CSRF header, and answers the file', async () => {
  setCsrfToken('tok');
  const log = [];
  const seen = [];
  const file = await uploadFile('/flotillas/f/files?channel=c&name=a.grb', blob(), (f) => seen.push(f), fakeXhr([[201, '{"id":"abc","name":"a.grb"}']], log));
  assert.deepEqual(file, { id: 'abc', name: 'a.grb' });
  assert.deepEqual(seen, [0, 0.25, 0.5, 1, 1]);
  assert.equal(log.length, 1);
  assert.equal(log[0].method, 'POST');
  assert.equal(log[0].url, '/api/v1/flotillas/f/files?channel=c&name=a.grb');
  assert.equal(log[0].headers['X-CSRF-Token'], 'tok');
  assert.equal(log[0].headers['Content-Type'], 'application/octet-stream');
});

test('a refused upload is an ApiError with the node code; a cut one is a network error', async () => {
  const log = [];
  await assert.rejects(
    uploadFile('/x', blob(), () => {}, fakeXhr([[413, '{"error":"too_large","message":"over 10 MB"}']], log)),
    (e) => e instanceof ApiError && e.status === 413 && e.code === 'too_large' && e.message === 'over 10 MB',
  );
  await assert.rejects(
    uploadFile('/x', blob(), () => {}, fakeXhr([[500, 'not json']], log)),
    (e) => e instanceof ApiError && e.code === 'http_500',
  );
  await assert.rejects(
    uploadFile('/x', blob(), () => {}, fakeXhr([[0, '']], log)),
    (e) => e instanceof ApiError && e.status === 0 && e.code === 'network',
  );
});

test('progress fractions stay within 0–1 whatever the event says', () => {
  assert.equal(uploadFraction(50, 200), 0.25);
  assert.equal(uploadFraction(10, 0), 0);
  assert.equal(uploadFraction(10, undefined), 0);
  assert.equal(uploadFraction(300, 200), 1);
  assert.equal(uploadFraction(-1, 200), 0);
});
