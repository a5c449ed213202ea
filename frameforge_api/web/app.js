// FrameForge's page for users: the REST API driven as any client drives it (README, "The
// REST API"). No framework and no build step; the page's CSP allows this file and nothing
// inline. The access token lives in memory only; the refresh token in sessionStorage (this
// tab), so a reload signs in again through POST /auth/refresh.

const API = "/api/v1";
const REFRESH_KEY = "frameforge.refreshToken";
const POLL_MS = 1500; // a job's status, polled: well under the 100 requests a minute per user
const ENDED = new Set(["completed", "failed", "cancelled"]);
const MAX_TILES = 120;

const $ = (id) => document.getElementById(id);

const auth = {
  access: null, // in memory only
  refresh: sessionStorage.getItem(REFRESH_KEY),
  timer: 0, // the renewal before the access token expires
  pending: null, // the refresh request in flight
};
let watching = 0; // bumped to stop the poll of the job shown before

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
  notice("");
  $("who").textContent = me.email;
  $("account").hidden = false;
  $("auth").hidden = true;
  $("upload").hidden = false;
  $("jobs").hidden = false;
  const jobs = await loadJobs();
  const live = jobs.find((job) => !ENDED.has(job.status));
  if (live) watch(live.jobId);
}

function signOut(message = "") {
  clearTimeout(auth.timer);
  auth.access = auth.refresh = null;
  sessionStorage.removeItem(REFRESH_KEY);
  watching += 1;
  for (const id of ["account", "upload", "job", "jobs", "upload-status"]) $(id).hidden = true;
  $("auth").hidden = false;
  notice(message);
}

// --- uploading -------------------------------------------------------------------------------

async function onUpload(event) {
  event.preventDefault();
  const form = event.target;
  const file = form.video.files[0];
  if (!file) return;
  const options = { fps: Number(form.fps.value), format: form.format.value };
  if (!$("mode-option").hidden) options.mode = form.mode.value;
  if (!$("storyboard-option").hidden && form.storyboard.checked) options.storyboard = true;
  busy(form, true);
  notice("");
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
    const created = await call("/videos/jobs", {
      method: "POST",
      body: { videoId: slot.videoId, options },
      headers: { "Idempotency-Key": randomKey() },
    });
    form.reset();
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

// --- a job -------------------------------------------------------------------------------------

function watch(jobId) {
  const generation = ++watching;
  $("job").hidden = false;
  $("storyboard").hidden = true;
  $("storyboard-tiles").replaceChildren();
  const poll = async () => {
    if (generation !== watching) return;
    let job;
    try {
      job = await call(`/videos/jobs/${encodeURIComponent(jobId)}`);
    } catch (error) {
      if (generation === watching) notice(error.message);
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

function showJob(job) {
  $("job-id").textContent = job.jobId;
  const status = $("job-status");
  status.textContent = job.status;
  status.className = `status-${job.status}`;
  $("job-progress").value = job.status === "completed" ? 100 : Math.round(job.progress * 100);
  const facts = [];
  if (job.frameCount != null) facts.push(`${job.frameCount} frames`);
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
}

function describeOptions(options) {
  const parts = [`${options.fps} fps`, options.format];
  if (options.mode && options.mode !== "interval") parts.push(options.mode);
  if (options.storyboard) parts.push("storyboard");
  return parts.join(" ");
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

async function loadJobs() {
  let page;
  try {
    page = await call("/videos/jobs?limit=10");
  } catch (error) {
    notice(error.message);
    return [];
  }
  const rows = page.items.map((job) => {
    const row = document.createElement("tr");
    const cells = [
      new Date(job.createdAt).toLocaleString(),
      job.status,
      job.frameCount ?? "",
      describeOptions(job.options),
    ].map((value) => {
      const cell = document.createElement("td");
      cell.textContent = String(value);
      return cell;
    });
    cells[1].className = `status-${job.status}`;
    const actions = document.createElement("td");
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
    row.append(...cells, actions);
    return row;
  });
  $("jobs-rows").replaceChildren(...rows);
  $("jobs-empty").hidden = rows.length > 0;
  return page.items;
}

// --- the page --------------------------------------------------------------------------------

function notice(message) {
  $("notice").textContent = message;
  $("notice").hidden = !message;
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

async function start() {
  $("auth-form").addEventListener("submit", onAuth);
  $("upload-form").addEventListener("submit", onUpload);
  $("sign-out").addEventListener("click", () => signOut());
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
