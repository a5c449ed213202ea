// FrameForge's page for users: the REST API driven as any client drives it (docs/api.md, "The
// REST API"). No framework and no build step; the page's CSP allows this file and nothing
// inline. The access token lives in memory only; the refresh token in sessionStorage (this
// tab), so a reload signs in again through POST /auth/refresh.

const API = "/api/v1";
const REFRESH_KEY = "frameforge.refreshToken";
const POLL_MS = 1500; // a job's status, polled: well under the 100 requests a minute per user
const ENDED = new Set(["completed", "failed", "cancelled"]);
const MAX_TILES = 120;
const PAGE = 10; // jobs listed at once; "Show older jobs" asks for the next page
const PACE_MS = 20_000; // the time left is estimated from the frames of the last 20 s

const $ = (id) => document.getElementById(id);

const auth = {
  access: null, // in memory only
  refresh: sessionStorage.getItem(REFRESH_KEY),
  timer: 0, // the renewal before the access token expires
  pending: null, // the refresh request in flight
};
let watching = 0; // bumped to stop the poll of the job shown before
let shown = null; // the job on the card, as the API last described it
let older = null; // the cursor of the next page of jobs
let pace = []; // [time, framesDone] of the job shown while it runs: its time left

class ApiError extends Error {
  constructor(status, problem) {
    super(describe(status, problem));
    this.status = status;
  }
}

function describe(status, problem) {
  if (problem && Array.isArray(problem.errors) && problem.errors.length) {
    return problem.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; ");
  }
  return (problem && (problem.detail || problem.title)) || `the server answered ${status}`;
}

function parseProblem(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null; // S3 answers XML; the status says enough
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- the API -------------------------------------------------------------------------------

// A response of the API, with the bearer token; a 401 refreshes the tokens once and tries
// again, a 429 on a GET waits as told.
async function request(path, { method = "GET", body, headers = {}, retried = false } = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  if (auth.access) init.headers.Authorization = `Bearer ${auth.access}`;
  const response = await fetch(API + path, init);
  if (response.status === 401 && auth.refresh && !retried && !path.startsWith("/auth/")) {
    if (await refreshTokens()) return request(path, { method, body, headers, retried: true });
  }
  if (response.status === 429 && method === "GET") {
    await sleep(1000 * Number(response.headers.get("Retry-After") || 1));
    return request(path, { method, body, headers, retried });
  }
  return response;
}

async function call(path, options) {
  const response = await request(path, options);
  const text = await response.text();
  if (!response.ok) throw new ApiError(response.status, parseProblem(text));
  return text ? JSON.parse(text) : null;
}

function keep(tokens) {
  auth.access = tokens.accessToken;
  auth.refresh = tokens.refreshToken;
  sessionStorage.setItem(REFRESH_KEY, auth.refresh);
  clearTimeout(auth.timer); // renew a minute before the access token expires
  auth.timer = setTimeout(refreshTokens, Math.max(10, tokens.expiresIn - 60) * 1000);
}

// New tokens for the refresh token (which is then spent); one request however many callers.
function refreshTokens() {
  auth.pending ??= (async () => {
    try {
      const response = await fetch(`${API}/auth/refresh`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refreshToken: auth.refresh }),
      });
      if (!response.ok) {
        signOut("Your session has ended: sign in again.");
        return false;
      }
      keep(await response.json());
      return true;
    } catch {
      return false; // the network: keep the tokens, the next call tries again
    } finally {
      auth.pending = null;
    }
  })();
  return auth.pending;
}

// --- signing in and out -----------------------------------------------------------------------

async function onAuth(event) {
  event.preventDefault();
  const form = event.target;
  const action = event.submitter ? event.submitter.value : "login";
  const credentials = { email: form.email.value.trim(), password: form.password.value };
  busy(form, true);
  notice(""); // the last attempt's error is not this one's
  try {
    if (action === "register") {
      await call("/auth/register", { method: "POST", body: credentials });
    }
    keep(await call("/auth/login", { method: "POST", body: credentials }));
    form.password.value = "";
    await signedIn();
  } catch (error) {
    notice(error.message);
  } finally {
    busy(form, false);
  }
}

async function signedIn() {
  const me = await call("/auth/validate", { method: "POST" });
  greet(me);
  $("who").textContent = me.email;
  $("account").hidden = false;
  $("auth").hidden = true;
  $("upload").hidden = false;
  $("jobs").hidden = false;
  const jobs = await loadJobs();
  const asked = askedJob();
  const live = jobs.find((job) => !ENDED.has(job.status));
  if (asked || live) watch(asked || live.jobId);
}

// The job a link asks for: #job=<id> (the email's link, the address of a job shown before).
function askedJob() {
  return new URLSearchParams(location.hash.slice(1)).get("job");
}

// A link to a job followed in this tab, or Back and Forward between two: that job on the card.
function onHashChange() {
  const asked = askedJob();
  if (asked && auth.access && (!shown || shown.jobId !== asked)) watch(asked);
}

// What the page says of the account's address once signed in, after the landing of the link
// mailed to confirm it (GET /auth/verify-email) if the page opened there.
function greet(me) {
  const arrived = landing;
  landing = null; // said once
  if (arrived === LINK_REFUSED_LANDING) notice(""); // said again below, now it can be acted on
  if (!me.emailVerified) {
    inform(arrived === LINK_REFUSED_LANDING ? ASK_AGAIN : UNVERIFIED, RESEND);
  } else if (arrived) {
    inform(arrived === CONFIRMED_LANDING ? CONFIRMED : ALREADY_CONFIRMED);
  } else {
    inform("");
  }
}

// A new confirmation link mailed (POST /auth/verification: 5 an hour, its 429 said as is).
async function onResend() {
  const button = $("resend");
  button.disabled = true;
  notice("");
  try {
    const response = await request("/auth/verification", { method: "POST" });
    if (!response.ok) throw new ApiError(response.status, parseProblem(await response.text()));
    if (response.status === 204) inform(ALREADY_CONFIRMED);
    else inform(`We sent a new link to ${$("who").textContent}: follow it to confirm the address.`, RESEND);
  } catch (error) {
    notice(error.message);
  } finally {
    button.disabled = false;
  }
}

// Sign out on the server too (the refresh token is revoked), then forget the tokens here.
async function onSignOut() {
  const refreshToken = auth.refresh;
  signOut();
  if (!refreshToken) return;
  try {
    await fetch(`${API}/auth/logout`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refreshToken }),
    });
  } catch {
    // the network: the token is forgotten here and expires on its own
  }
}

function signOut(message = "") {
  clearTimeout(auth.timer);
  auth.access = auth.refresh = null;
  sessionStorage.removeItem(REFRESH_KEY);
  forget();
  for (const id of ["account", "upload", "jobs", "upload-status"]) $(id).hidden = true;
  $("auth").hidden = false;
  notice(message);
  inform("");
  said("");
}

// --- uploading -------------------------------------------------------------------------------

async function onUpload(event) {
  event.preventDefault();
  const form = event.target;
  const file = form.video.files[0];
  if (!file) return;
  notice("");
  said("");
  if (file.size === 0) {
    notice("the file is empty (0 bytes)"); // as the CLI says it; nothing is asked of the API
    return;
  }
  const options = { fps: Number(form.fps.value), format: form.format.value };
  if (!$("mode-option").hidden) options.mode = form.mode.value;
  if (!$("storyboard-option").hidden && form.storyboard.checked) options.storyboard = true;
  busy(form, true);
  showUpload(0);
  try {
    const slot = await call("/videos/upload-url", {
      method: "POST",
      body: {
        filename: file.name,
        contentType: file.type || "application/octet-stream",
        sizeBytes: file.size,
      },
    });
    await send(slot, file, showUpload);
    let created;
    try {
      created = await call("/videos/jobs", {
        method: "POST",
        body: { videoId: slot.videoId, options },
        headers: { "Idempotency-Key": randomKey() },
      });
    } catch (error) {
      // refused (not a video, over a quota): the upload goes too, nothing is left behind
      await request(`/videos/${encodeURIComponent(slot.videoId)}`, { method: "DELETE" });
      throw error;
    }
    form.reset();
    $("upload-status").hidden = true;
    watch(created.jobId);
    loadJobs();
  } catch (error) {
    notice(error.message);
  } finally {
    busy(form, false);
  }
}

// The file's bytes to the upload URL (the API's own, or a presigned S3 PUT) with the headers
// it was signed with; XMLHttpRequest, as fetch reports no upload progress.
function send(slot, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(slot.method || "PUT", slot.uploadUrl);
    for (const [name, value] of Object.entries(slot.headers || {})) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve();
      } else {
        reject(new ApiError(xhr.status, parseProblem(xhr.responseText)));
      }
    });
    xhr.addEventListener("error", () => reject(new Error("the upload failed: network error")));
    xhr.send(file);
  });
}

function showUpload(fraction) {
  const percent = Math.round(fraction * 100);
  $("upload-status").hidden = false;
  $("upload-progress").value = percent;
  $("upload-percent").textContent = `${percent} %`;
}

function randomKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16)); // randomUUID needs a secure context
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// --- a job ---------------------------------------------------------------------------------------

// Show the job on the card and follow it until it ends; its id goes in the address
// (#job=<id>), so a reload, or the link in an email, shows it again.
function watch(jobId) {
  const generation = ++watching;
  history.replaceState(null, "", `#job=${encodeURIComponent(jobId)}`);
  if (!shown || shown.jobId !== jobId) pace = [];
  $("storyboard").hidden = true;
  $("storyboard-tiles").replaceChildren();
  const poll = async () => {
    if (generation !== watching) return;
    let job;
    try {
      job = await call(`/videos/jobs/${encodeURIComponent(jobId)}`);
    } catch (error) {
      if (generation !== watching) return;
      if (error.status === 404) forget(); // not the user's, or deleted meanwhile
      notice(error.message);
      return;
    }
    if (generation !== watching) return;
    showJob(job);
    if (!ENDED.has(job.status)) {
      setTimeout(poll, POLL_MS);
      return;
    }
    loadJobs();
    if (job.status === "completed" && job.options.storyboard) showStoryboard(job, generation);
  };
  poll();
}

// No job on the card any more (signed out, its video deleted).
function forget() {
  watching += 1;
  shown = null;
  $("job").hidden = true;
  history.replaceState(null, "", location.pathname);
}

function showJob(job) {
  const before = shown && shown.jobId === job.jobId ? shown : null;
  if (before && !Object.values(job.video || {}).some((fact) => fact != null)) {
    job = { ...job, video: before.video }; // a retry's run, queued, has not read its video yet
  }
  const changed = before && before.status !== job.status;
  shown = job;
  if (changed) loadJobs(); // the list says what the card says
  $("job").hidden = false;
  $("job-title").textContent = job.fileName;
  const status = $("job-status");
  status.textContent = job.status;
  status.className = `status-${job.status}`;
  $("job-created").replaceChildren("created ", when(job.createdAt));
  $("job-id").textContent = `job ${job.jobId.slice(0, 8)}`;
  $("job-id").title = job.jobId;
  $("job-progress").value = job.status === "completed" ? 100 : Math.round(job.progress * 100);
  $("job-frames").textContent = framesText(job);
  const facts = [];
  const video = job.video || {};
  if (video.duration != null) facts.push(`${Number(video.duration).toFixed(1)} s`);
  if (video.width && video.height) facts.push(`${video.width}×${video.height}`);
  if (video.codec) facts.push(video.codec);
  facts.push(describeOptions(job.options));
  $("job-detail").textContent = facts.join(" · ");
  $("job-error").hidden = !job.error;
  $("job-error").textContent = job.error || "";
  const download = $("download");
  download.hidden = !job.downloadUrl;
  if (job.downloadUrl) download.href = job.downloadUrl;
  else download.removeAttribute("href");
  $("cancel").hidden = ENDED.has(job.status);
  $("retry").hidden = !job.retryable; // a rejected video would fail the same way
  $("delete").hidden = false;
}

// "120 of 300 frames · about 40 s left", "4 frames so far", "10 frames"
function framesText(job) {
  if (job.status === "queued") return "waiting for its turn";
  const count = frames(job, " frames");
  if (!count) return job.status === "running" ? "starting" : "";
  const counting = job.status === "running" && job.framesExpected != null;
  const left = counting ? timeLeft(job.framesDone, job.framesExpected) : "";
  return left ? `${count} · ${left}` : count;
}

// The frames of a job: "10 frames" once completed, "120 of 300 frames" while counted (and
// where a cancel or a failure stopped them), "4 frames so far" when no total is known (scene
// mode); "" before any is counted. The card and the list say the same.
function frames(job, unit = "") {
  if (job.status === "completed") return job.frameCount == null ? "" : `${job.frameCount}${unit}`;
  if (job.status === "queued" || job.framesDone == null) return "";
  if (job.framesExpected == null) return `${job.framesDone}${unit} so far`;
  return `${job.framesDone} of ${job.framesExpected}${unit}`;
}

// From the frames counted over the last PACE_MS: "about 40 s left", "about 3 min left"; once
// every frame is made, "finishing" (the ZIP and the index are left, however long they take).
function timeLeft(done, expected) {
  if (done >= expected) return "finishing";
  const now = Date.now();
  if (!pace.length || pace[pace.length - 1][1] !== done) pace.push([now, done]);
  pace = pace.filter(([at]) => now - at <= PACE_MS);
  const [since, first] = pace[0];
  const seconds = (now - since) / 1000;
  if (pace.length < 2 || seconds < 2 || done <= first) return "";
  const left = (expected - done) / ((done - first) / seconds);
  return left < 60 ? `about ${Math.max(1, Math.round(left))} s left` : `about ${Math.round(left / 60)} min left`;
}

// <time datetime="2026-12-06T07:07:01Z">Dec 6, 2026, 4:07 PM</time>: this browser's time
function when(stamp) {
  const time = document.createElement("time");
  time.dateTime = stamp;
  time.textContent = new Date(stamp).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  return time;
}

// "2 fps jpg storyboard", "keyframes png", "scene cuts jpg": fps counts in interval mode only
function describeOptions(options) {
  const mode = options.mode || "interval";
  const sampling = { interval: `${options.fps} fps`, scene: "scene cuts" }[mode] ?? mode;
  const parts = [sampling, options.format];
  if (options.storyboard) parts.push("storyboard");
  return parts.join(" ");
}

// Cancel or retry the job on the card.
async function act(action) {
  if (!shown) return;
  const jobId = shown.jobId;
  notice("");
  said("");
  try {
    showJob(await call(`/videos/jobs/${encodeURIComponent(jobId)}/${action}`, { method: "POST" }));
    watch(jobId);
    loadJobs();
  } catch (error) {
    notice(error.message);
  }
}

async function deleteVideo() {
  if (!shown) return;
  const { videoId, fileName } = shown;
  if (!confirm(`Delete ${fileName} for good? Its frames and ZIPs go too.`)) return;
  notice("");
  try {
    await call(`/videos/${encodeURIComponent(videoId)}`, { method: "DELETE" });
  } catch (error) {
    notice(error.message);
    return;
  }
  if (shown && shown.videoId === videoId) forget();
  said(`${fileName} is deleted, with its frames and ZIPs.`);
  loadJobs();
}

// --- the storyboard: WebVTT cues whose text is "sprite.jpg#xywh=x,y,w,h" -----------------------

// Sheet URLs are signed (the VTT is read with the token, the sheets need none).
async function showStoryboard(job, generation) {
  const path = `/videos/jobs/${encodeURIComponent(job.jobId)}/storyboard.vtt`;
  const response = await request(path);
  if (!response.ok || generation !== watching) return; // no storyboard: nothing to preview
  const cues = parseVtt(await response.text(), new URL(response.url, location.href));
  const tiles = cues.slice(0, MAX_TILES).map((cue) => {
    const figure = document.createElement("figure");
    figure.className = "tile";
    const picture = document.createElement("div");
    // CSSOM, not a style attribute: allowed under the page's style-src 'self'
    picture.style.width = `${cue.w}px`;
    picture.style.height = `${cue.h}px`;
    picture.style.backgroundImage = `url("${cue.image}")`;
    picture.style.backgroundPosition = `-${cue.x}px -${cue.y}px`;
    picture.title = `${clock(cue.start)} to ${clock(cue.end)}`;
    const caption = document.createElement("figcaption");
    caption.textContent = clock(cue.start);
    figure.append(picture, caption);
    return figure;
  });
  if (!tiles.length) return;
  $("storyboard-tiles").replaceChildren(...tiles);
  $("storyboard").hidden = false;
}

function parseVtt(text, base) {
  const cues = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i += 1) {
    const timing = lines[i].match(/^\s*([\d:.]+)\s+-->\s+([\d:.]+)/);
    const payload = timing && (lines[i + 1] || "").trim();
    const tile = payload && payload.match(/^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/);
    if (!tile) continue;
    cues.push({
      start: seconds(timing[1]),
      end: seconds(timing[2]),
      image: new URL(tile[1], base).href,
      x: Number(tile[2]),
      y: Number(tile[3]),
      w: Number(tile[4]),
      h: Number(tile[5]),
    });
  }
  return cues;
}

function seconds(stamp) {
  return stamp.split(":").reduce((total, part) => total * 60 + Number(part), 0);
}

function clock(total) {
  const m = Math.floor(total / 60);
  const s = (total % 60).toFixed(total % 1 ? 1 : 0); // 0:04, 0:04.5
  return `${m}:${s.padStart(s.includes(".") ? 4 : 2, "0")}`;
}

// --- the list of jobs ----------------------------------------------------------------------------

// The newest jobs (or, with more, the next page after those listed).
async function loadJobs(more = false) {
  let page;
  try {
    const cursor = more && older ? `&cursor=${older}` : "";
    page = await call(`/videos/jobs?limit=${PAGE}${cursor}`);
  } catch (error) {
    notice(error.message);
    return [];
  }
  const rows = page.items.map(jobRow);
  if (more) $("jobs-rows").append(...rows);
  else $("jobs-rows").replaceChildren(...rows);
  older = page.nextCursor;
  $("more-jobs").hidden = !older;
  $("jobs-empty").hidden = $("jobs-rows").children.length > 0;
  return page.items;
}

function jobRow(job) {
  const row = document.createElement("tr");
  const cell = (label, text, className = "") => {
    const td = document.createElement("td");
    td.dataset.label = label; // shown before the value on a narrow screen
    td.textContent = String(text);
    td.className = className;
    return td;
  };
  const video = cell("Video", "", "file");
  const name = document.createElement("span");
  name.textContent = job.fileName;
  name.title = job.fileName; // the whole name, where a long one ends in "…"
  video.append(name);
  if (job.error) {
    const reason = document.createElement("span");
    reason.className = "reason";
    reason.textContent = job.error;
    reason.title = job.error;
    video.append(reason);
  }
  const actions = cell("", "", "actions");
  const show = document.createElement("button");
  show.type = "button";
  show.textContent = "Show";
  show.addEventListener("click", () => watch(job.jobId));
  actions.append(show);
  if (job.downloadUrl) {
    const link = document.createElement("a");
    link.href = job.downloadUrl;
    link.textContent = "ZIP";
    link.setAttribute("download", "");
    actions.append(link);
  }
  const created = cell("Created", "");
  created.append(when(job.createdAt));
  row.append(
    video,
    created,
    cell("Status", job.status, `status-${job.status}`),
    cell("Frames", frames(job)),
    cell("Options", describeOptions(job.options)),
    actions,
  );
  return row;
}

// --- the page --------------------------------------------------------------------------------

// What went wrong (role=alert), until the next attempt.
function notice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
}

// What became of the last thing done to the jobs (a deletion), under the list.
function said(message) {
  $("jobs-said").textContent = message;
}

// What the user should know (role=status), with "Send a new link" when it is about a link.
function inform(message, { resend = false } = {}) {
  $("info-text").textContent = message;
  $("info").hidden = !message;
  $("resend").hidden = !resend;
}

function busy(form, on) {
  for (const button of form.querySelectorAll("button")) button.disabled = on;
}

// The choice of sampling mode and the storyboard checkbox, as this API's options have them
// (its OpenAPI document says).
const MODE_NAMES = {
  interval: "every 1/fps seconds",
  keyframes: "keyframes",
  scene: "at scene cuts",
};

async function offerOptions() {
  let options;
  try {
    const doc = await (await fetch("/openapi.json")).json();
    const ref = doc.components.schemas.JobIn.properties.options.$ref || "/ExtractOptions";
    options = doc.components.schemas[ref.split("/").pop()].properties;
  } catch {
    return; // the choices stay hidden: the defaults apply
  }
  const modes = (options.mode && options.mode.enum) || [];
  if (modes.length > 1) {
    const select = document.querySelector("select[name=mode]");
    const choice = (mode) => {
      const isDefault = mode === options.mode.default;
      return new Option(MODE_NAMES[mode] || mode, mode, isDefault, isDefault);
    };
    select.replaceChildren(...modes.map(choice));
    $("mode-option").hidden = false;
  }
  $("storyboard-option").hidden = !options.storyboard;
}

// The link mailed at registration (GET /auth/verify-email) lands on #email-verified, or,
// invalid or expired, on #email-link-refused.
const CONFIRMED_LANDING = "email-verified";
const LINK_REFUSED_LANDING = "email-link-refused";
const UNVERIFIED =
  "Confirm your email address with the link we mailed you: until then FrameForge sends it no email about your jobs.";
const CONFIRMED = "Your email address is confirmed: FrameForge will email you when your jobs finish.";
const ALREADY_CONFIRMED = "Your email address is confirmed already.";
const LINK_REFUSED =
  "That confirmation link is invalid or has expired. Sign in to have a new one sent.";
const RESEND = { resend: true }; // with the "Send a new link" button
const ASK_AGAIN = "That confirmation link is invalid or has expired: ask for a new one.";
let landing = [CONFIRMED_LANDING, LINK_REFUSED_LANDING].find((name) => location.hash === `#${name}`);

async function start() {
  if (landing) {
    if (landing === CONFIRMED_LANDING) inform(CONFIRMED);
    else notice(LINK_REFUSED);
    history.replaceState(null, "", location.pathname);
  }
  $("auth-form").addEventListener("submit", onAuth);
  $("upload-form").addEventListener("submit", onUpload);
  $("upload-form").video.addEventListener("change", () => notice(""));
  $("resend").addEventListener("click", onResend);
  window.addEventListener("hashchange", onHashChange);
  $("sign-out").addEventListener("click", onSignOut);
  $("cancel").addEventListener("click", () => act("cancel"));
  $("retry").addEventListener("click", () => act("retry"));
  $("delete").addEventListener("click", deleteVideo);
  $("more-jobs").addEventListener("click", () => loadJobs(true));
  offerOptions();
  if (auth.refresh && (await refreshTokens())) {
    try {
      await signedIn();
    } catch (error) {
      notice(error.message);
    }
  }
}

start();
