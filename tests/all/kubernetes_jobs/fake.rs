//! A stateful fake of the Kubernetes API server on loopback, for the
//! executor: ConfigMaps, Secrets, Jobs, NetworkPolicies and pods in
//! namespace `ops`, with resourceVersions, a pod watch (which it drops after
//! each event, so that runbox must resume it), pod logs followed as they
//! are written, owner-reference garbage collection, and 403s for whatever
//! the Role in `deploy/` does not grant. It plays the Job controller and
//! the kubelet: a let-go Job's pod runs its script with a local shell whose
//! PATH holds only a few base tools (so `psql` and `aws` are not found, as
//! in an image without them), its variables from the Secrets the pod names.

use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::super::kubernetes::{RoleRule, deployed_role, request_rule};
use crate::harness::{base64, read_request};

/// The tools the stand-in image has.
const BASE_TOOLS: [&str; 14] =
    ["bash", "sh", "env", "echo", "cat", "date", "find", "gzip", "awk", "sleep", "printf", "head", "id", "ls"];

#[derive(Default)]
pub struct Cluster {
    version: u64,
    /// `(resource, name)` → object, all in namespace `ops`.
    objects: BTreeMap<(String, String), Value>,
    /// Pod events: `(resourceVersion, type, pod)`.
    events: Vec<(u64, String, Value)>,
    /// Each pod's log, and whether its container has ended.
    logs: BTreeMap<String, (Vec<u8>, bool)>,
    /// Each running pod's process.
    running: BTreeMap<String, u32>,
    /// Every request: `METHOD PATH`.
    pub asked: Vec<String>,
    /// Each Job's body as created, and each DeleteOptions sent.
    pub created_jobs: Vec<Value>,
    pub deletes: Vec<Value>,
    /// The next pod watch answers 410 Expired (its version compacted away),
    /// as an API server does to a watch resumed too late.
    pub expire_next_watch: bool,
}

pub struct Fake {
    pub url: String,
    pub state: Arc<(Mutex<Cluster>, Condvar)>,
    tools: tempfile::TempDir,
}

fn unb64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = text.bytes().filter(|c| *c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, c)| n | (u32::from(value(*c)) << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({ "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code })
}

/// A Secret as the API server keeps it: `stringData` folded into `data`.
pub fn secret(name: &str, data: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> =
        data.iter().map(|(k, v)| (k.to_string(), json!(base64(v.as_bytes())))).collect();
    json!({ "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": { "name": name, "namespace": "ops" }, "data": data })
}

pub fn configmap(name: &str, data: &[(&str, &str)]) -> Value {
    let data: serde_json::Map<String, Value> = data.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
    json!({ "apiVersion": "v1", "kind": "ConfigMap", "metadata": { "name": name, "namespace": "ops" }, "data": data })
}

enum Answer {
    Full(u16, Value),
    Watch { from: u64, selector: String },
    Log(String),
}

impl Fake {
    pub fn start(objects: Vec<Value>) -> Fake {
        let tools = tempfile::tempdir().unwrap();
        for tool in BASE_TOOLS {
            for dir in ["/usr/bin", "/bin"] {
                let path = std::path::Path::new(dir).join(tool);
                if path.exists() {
                    std::os::unix::fs::symlink(&path, tools.path().join(tool)).unwrap();
                    break;
                }
            }
        }
        let mut cluster = Cluster::default();
        for object in objects {
            let resource = match object["kind"].as_str().unwrap() {
                "Secret" => "secrets",
                _ => "configmaps",
            };
            cluster.put(resource, object);
        }
        let state = Arc::new((Mutex::new(cluster), Condvar::new()));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let role = deployed_role();
        let (shared, bin) = (Arc::clone(&state), tools.path().to_path_buf());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let (state, role, bin) = (Arc::clone(&shared), role.clone(), bin.clone());
                std::thread::spawn(move || serve(stream, &state, &role, &bin));
            }
        });
        Fake { url, state, tools }
    }

    /// A kubeconfig for it in `dir` (context namespace `ops`).
    pub fn kubeconfig(&self, dir: &std::path::Path) -> String {
        let path = dir.join("kubeconfig");
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: runbox\n    namespace: ops\ncurrent-context: fake\nusers:\n- name: runbox\n  user:\n    token: a-token-for-the-fake\n",
            self.url
        );
        std::fs::write(&path, config).unwrap();
        let _ = &self.tools;
        path.to_string_lossy().into_owned()
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Cluster) -> T) -> T {
        f(&mut self.state.0.lock().unwrap())
    }

    /// The names of the objects of `resource` it holds.
    pub fn names(&self, resource: &str) -> Vec<String> {
        self.with(|c| c.objects.keys().filter(|(r, _)| r == resource).map(|(_, n)| n.clone()).collect())
    }
}

impl Cluster {
    /// Puts `object` in, as if someone had made it.
    pub fn seed(&mut self, resource: &str, object: Value) {
        self.put(resource, object);
    }

    fn put(&mut self, resource: &str, mut object: Value) -> Value {
        self.version += 1;
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_string();
        object["metadata"]["namespace"] = json!("ops");
        object["metadata"]["resourceVersion"] = json!(self.version.to_string());
        if object["metadata"]["uid"].is_null() {
            object["metadata"]["uid"] = json!(format!("uid-{resource}-{name}-{}", self.version));
        }
        let kind = if self.objects.contains_key(&(resource.to_string(), name.clone())) { "MODIFIED" } else { "ADDED" };
        self.objects.insert((resource.to_string(), name), object.clone());
        if resource == "pods" {
            self.events.push((self.version, kind.into(), object.clone()));
        }
        object
    }

    fn remove(&mut self, resource: &str, name: &str) -> Option<Value> {
        let object = self.objects.remove(&(resource.to_string(), name.to_string()))?;
        self.version += 1;
        if resource == "pods" {
            let mut gone = object.clone();
            gone["metadata"]["resourceVersion"] = json!(self.version.to_string());
            self.events.push((self.version, "DELETED".into(), gone));
            if let Some(pid) = self.running.remove(name).and_then(|pid| rustix::process::Pid::from_raw(pid as i32)) {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
        }
        Some(object)
    }

    fn secret_value(&self, name: &str, key: &str) -> Option<String> {
        let secret = self.objects.get(&("secrets".to_string(), name.to_string()))?;
        secret["data"][key].as_str().map(|v| String::from_utf8_lossy(&unb64(v)).into_owned())
    }
}

fn matches(object: &Value, selector: &str) -> bool {
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        let (key, value) = term.split_once('=').unwrap_or((term, ""));
        object["metadata"]["labels"][key].as_str() == Some(value)
    })
}

fn query(target: &str, key: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.replace("%3D", "=").replace("%2C", ",").replace("%2F", "/"))
    })
}

fn serve(stream: TcpStream, state: &Arc<(Mutex<Cluster>, Condvar)>, role: &[RoleRule], bin: &std::path::Path) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Some((method, target, body)) = read_request(&mut reader) {
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let path = target.split('?').next().unwrap_or_default().to_string();
        state.0.lock().unwrap().asked.push(format!("{method} {target}"));
        let rule = request_rule(&method, &target);
        let answer = if !role.contains(&rule) {
            let (verb, group, resource) = &rule;
            let message = format!(
                "{resource} is forbidden: User \"system:serviceaccount:ops:runbox\" cannot {verb} resource \"{resource}\" in API group \"{group}\" in the namespace \"ops\""
            );
            Answer::Full(403, status(403, "Forbidden", &message))
        } else {
            answer(state, &method, &target, &path, body, bin)
        };
        let written = match answer {
            Answer::Full(code, value) => {
                let reply = value.to_string();
                let head = format!(
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    reply.len()
                );
                writer.write_all(&[head.as_bytes(), reply.as_bytes()].concat()).is_ok()
            }
            Answer::Watch { from, selector } => {
                watch(&mut writer, state, from, &selector);
                return;
            }
            Answer::Log(pod) => {
                log(&mut writer, state, &pod);
                return;
            }
        };
        if !written {
            return;
        }
    }
}

fn chunk(writer: &mut TcpStream, bytes: &[u8]) -> bool {
    writer.write_all(format!("{:x}\r\n", bytes.len()).as_bytes()).is_ok()
        && writer.write_all(bytes).is_ok()
        && writer.write_all(b"\r\n").is_ok()
        && writer.flush().is_ok()
}

/// Pod events after `from`, one at a time: the watch is closed after each
/// event (as a server or a proxy drops long watches), and after 2 s quiet.
/// Like a proxy, it closes the connection without saying so beforehand
/// (no `Connection: close`): a client that pools it finds it closed on its
/// next request, which runbox's cleanup must survive.
fn watch(writer: &mut TcpStream, state: &Arc<(Mutex<Cluster>, Condvar)>, from: u64, selector: &str) {
    let _ =
        writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    let until = Instant::now() + Duration::from_secs(2);
    let (lock, changed) = &**state;
    let mut cluster = lock.lock().unwrap();
    if std::mem::take(&mut cluster.expire_next_watch) {
        let expired = status(410, "Expired", &format!("too old resource version: {from} ({})", cluster.version));
        drop(cluster);
        chunk(writer, format!("{}\n", json!({ "type": "ERROR", "object": expired })).as_bytes());
        let _ = writer.write_all(b"0\r\n\r\n");
        return;
    }
    loop {
        let next = cluster.events.iter().find(|(v, _, pod)| *v > from && matches(pod, selector)).cloned();
        if let Some((_, kind, pod)) = next {
            drop(cluster);
            let line = format!("{}\n", json!({ "type": kind, "object": pod }));
            chunk(writer, line.as_bytes());
            break;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            drop(cluster);
            break;
        }
        cluster = changed.wait_timeout(cluster, left).unwrap().0;
    }
    let _ = writer.write_all(b"0\r\n\r\n");
}

/// The pod's log from its start as it is written, until its container
/// ends — or, but for the last, until the first chunk after the log's
/// start is sent: the stream is then cut, as a proxy cuts long streams, and
/// runbox must open it again.
fn log(writer: &mut TcpStream, state: &Arc<(Mutex<Cluster>, Condvar)>, pod: &str) {
    let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n");
    let (lock, changed) = &**state;
    let mut sent = 0;
    let mut cluster = lock.lock().unwrap();
    loop {
        let (bytes, done) = cluster.logs.get(pod).cloned().unwrap_or_default();
        if bytes.len() > sent {
            drop(cluster);
            // Cut after the bytes it held when asked and one chunk more.
            let cut = sent > 0;
            if !chunk(writer, &bytes[sent..]) {
                return;
            }
            sent = bytes.len();
            if cut {
                let _ = writer.write_all(b"0\r\n\r\n");
                return;
            }
            cluster = lock.lock().unwrap();
            continue;
        }
        if done || !cluster.objects.contains_key(&("pods".to_string(), pod.to_string())) {
            break;
        }
        cluster = changed.wait_timeout(cluster, Duration::from_millis(200)).unwrap().0;
    }
    drop(cluster);
    let _ = writer.write_all(b"0\r\n\r\n");
}

fn answer(
    state: &Arc<(Mutex<Cluster>, Condvar)>,
    method: &str,
    target: &str,
    path: &str,
    body: Value,
    bin: &std::path::Path,
) -> Answer {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // api/v1/namespaces/NS/RES[/NAME[/SUB]] or apis/G/V/namespaces/NS/RES[/NAME]
    let at = if parts.first() == Some(&"api") { 2 } else { 3 };
    let namespace = parts.get(at + 1).copied().unwrap_or_default();
    let resource = parts.get(at + 2).copied().unwrap_or_default().to_string();
    let name = parts.get(at + 3).map(|s| s.to_string());
    let sub = parts.get(at + 4).copied();
    if namespace != "ops" {
        return Answer::Full(404, status(404, "NotFound", &format!("namespaces \"{namespace}\" not found")));
    }
    let (lock, changed) = &**state;
    let mut cluster = lock.lock().unwrap();
    let selector = query(target, "labelSelector").unwrap_or_default();
    let answer = match (method, name, sub) {
        ("GET", None, _) if query(target, "watch").as_deref() == Some("true") => {
            let from = query(target, "resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
            return Answer::Watch { from, selector };
        }
        ("GET", Some(pod), Some("log")) => return Answer::Log(pod),
        ("GET", None, _) => {
            let items: Vec<Value> = cluster
                .objects
                .iter()
                .filter(|((r, _), o)| *r == resource && matches(o, &selector))
                .map(|(_, o)| o.clone())
                .collect();
            Answer::Full(
                200,
                json!({ "apiVersion": "v1", "kind": "List", "metadata": { "resourceVersion": cluster.version.to_string() }, "items": items }),
            )
        }
        ("GET", Some(name), _) => match cluster.objects.get(&(resource.clone(), name.clone())) {
            Some(object) => Answer::Full(200, object.clone()),
            None => Answer::Full(404, status(404, "NotFound", &format!("{resource} \"{name}\" not found"))),
        },
        ("POST", None, _) => {
            let name = body["metadata"]["name"].as_str().unwrap_or_default().to_string();
            if cluster.objects.contains_key(&(resource.clone(), name.clone())) {
                Answer::Full(409, status(409, "AlreadyExists", &format!("{resource} \"{name}\" already exists")))
            } else {
                let mut object = body.clone();
                if let Some(data) = object.get("stringData").cloned() {
                    let encoded: serde_json::Map<String, Value> = data
                        .as_object()
                        .unwrap()
                        .iter()
                        .map(|(k, v)| (k.clone(), json!(base64(v.as_str().unwrap_or_default().as_bytes()))))
                        .collect();
                    object["data"] = Value::Object(encoded);
                    object.as_object_mut().unwrap().remove("stringData");
                }
                if resource == "jobs" {
                    cluster.created_jobs.push(body);
                }
                let made = cluster.put(&resource, object);
                if resource == "jobs" && made["spec"]["suspend"] != json!(true) {
                    start(state, &mut cluster, &made, bin);
                }
                Answer::Full(201, made)
            }
        }
        ("PATCH", Some(name), _) => match cluster.objects.get(&(resource.clone(), name.clone())).cloned() {
            Some(mut object) => {
                let was = object["spec"]["suspend"] == json!(true);
                if let Some(suspend) = body["spec"].get("suspend") {
                    object["spec"]["suspend"] = suspend.clone();
                }
                let made = cluster.put(&resource, object);
                if resource == "jobs" && was && made["spec"]["suspend"] == json!(false) {
                    start(state, &mut cluster, &made, bin);
                }
                Answer::Full(200, made)
            }
            None => Answer::Full(404, status(404, "NotFound", &format!("{resource} \"{name}\" not found"))),
        },
        ("DELETE", Some(name), _) => match cluster.remove(&resource, &name) {
            Some(object) => {
                cluster.deletes.push(body);
                // The garbage collector: what the Job owns, and its pods.
                let uid = object["metadata"]["uid"].clone();
                let owned: Vec<(String, String)> = cluster
                    .objects
                    .iter()
                    .filter(|(_, o)| {
                        o["metadata"]["ownerReferences"].as_array().is_some_and(|r| r.iter().any(|r| r["uid"] == uid))
                            || o["metadata"]["labels"]["runbox.dev/job"] == json!(name) && o["kind"] == json!("Pod")
                    })
                    .map(|(k, _)| k.clone())
                    .collect();
                for (resource, name) in owned {
                    cluster.remove(&resource, &name);
                }
                Answer::Full(200, json!({ "kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {} }))
            }
            None => Answer::Full(404, status(404, "NotFound", &format!("{resource} \"{name}\" not found"))),
        },
        _ => Answer::Full(405, status(405, "MethodNotAllowed", "not here")),
    };
    changed.notify_all();
    answer
}

/// The Job controller and the kubelet: the Job's pod, its script run.
fn start(state: &Arc<(Mutex<Cluster>, Condvar)>, cluster: &mut Cluster, job: &Value, bin: &std::path::Path) {
    let name = job["metadata"]["name"].as_str().unwrap().to_string();
    let pod_name = format!("{name}-x7k2p");
    let template = &job["spec"]["template"];
    let container = template["spec"]["containers"][0].clone();
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": pod_name, "labels": template["metadata"]["labels"] },
        "spec": template["spec"],
        "status": { "phase": "Pending" },
    });
    cluster.put("pods", pod.clone());
    let image = container["image"].as_str().unwrap_or_default().to_string();
    let waiting = |cluster: &mut Cluster, reason: &str, message: &str| {
        let mut pod = pod.clone();
        pod["status"] = json!({ "phase": "Pending", "containerStatuses": [{ "name": "step", "image": image, "imageID": "",
            "ready": false, "restartCount": 0, "state": { "waiting": { "reason": reason, "message": message } } }] });
        cluster.put("pods", pod);
    };
    if image.contains("no-such-image") {
        return waiting(cluster, "ErrImagePull", &format!("failed to pull and unpack image \"{image}\": not found"));
    }
    // Variables, from the Secrets the pod names.
    let mut env: Vec<(String, String)> =
        vec![("PATH".into(), bin.display().to_string()), ("HOME".into(), "/tmp".into())];
    for from in container["envFrom"].as_array().into_iter().flatten() {
        let secret = from["secretRef"]["name"].as_str().unwrap_or_default();
        let Some(object) = cluster.objects.get(&("secrets".to_string(), secret.to_string())) else {
            return waiting(cluster, "CreateContainerConfigError", &format!("secret \"{secret}\" not found"));
        };
        for (key, value) in object["data"].as_object().into_iter().flatten() {
            env.push((key.clone(), String::from_utf8_lossy(&unb64(value.as_str().unwrap_or_default())).into_owned()));
        }
    }
    for variable in container["env"].as_array().into_iter().flatten() {
        let reference = &variable["valueFrom"]["secretKeyRef"];
        let value = cluster.secret_value(
            reference["name"].as_str().unwrap_or_default(),
            reference["key"].as_str().unwrap_or_default(),
        );
        let Some(value) = value else {
            return waiting(cluster, "CreateContainerConfigError", "couldn't find key in Secret");
        };
        env.push((variable["name"].as_str().unwrap().to_string(), value));
    }
    let volume = &template["spec"]["volumes"][0]["secret"];
    let script_key = volume["items"][0]["key"].as_str().unwrap_or_default();
    let Some(script) = cluster.secret_value(volume["secretName"].as_str().unwrap_or_default(), script_key) else {
        return waiting(cluster, "ContainerCreating", "secret not yet there");
    };
    let dir = tempfile::tempdir().unwrap().keep();
    let file = dir.join("script");
    std::fs::write(&file, &script).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
    let mut argv: Vec<String> =
        container["command"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()).collect();
    argv.extend(container["args"].as_array().into_iter().flatten().map(|a| a.as_str().unwrap_or_default().to_string()));
    for arg in &mut argv {
        if arg == "/runbox/script/script" {
            *arg = file.display().to_string();
        }
    }
    let (reader, writer) = std::io::pipe().unwrap();
    let mut command = std::process::Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .env_clear()
        .envs(env)
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(writer.try_clone().unwrap())
        .stderr(writer);
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().unwrap();
    drop(command);
    cluster.running.insert(pod_name.clone(), child.id());
    cluster.logs.insert(pod_name.clone(), (Vec::new(), false));
    let mut running = pod.clone();
    let digest = format!("{}@sha256:{}", image.split(':').next().unwrap_or_default(), "f".repeat(64));
    running["status"] = json!({ "phase": "Running", "containerStatuses": [{ "name": "step", "image": image, "imageID": digest,
        "ready": true, "restartCount": 0, "state": { "running": { "startedAt": "2026-12-06T10:00:00Z" } } }] });
    cluster.put("pods", running.clone());
    let deadline = job["spec"]["activeDeadlineSeconds"].as_u64().unwrap_or(600);
    // The stand-in for a node under pressure: the kubelet evicts the pod
    // half a second in, killing its container.
    if image.contains("evict-test") {
        let (state, pod_name, running) = (Arc::clone(state), pod_name.clone(), running.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(500));
            let (lock, changed) = &*state;
            let mut cluster = lock.lock().unwrap();
            if let Some(pid) =
                cluster.running.get(&pod_name).and_then(|pid| rustix::process::Pid::from_raw(*pid as i32))
            {
                let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
            }
            let mut evicted = running;
            evicted["status"]["phase"] = json!("Failed");
            evicted["status"]["reason"] = json!("Evicted");
            evicted["status"]["message"] =
                json!("The node was low on resource: memory. Threshold quantity: 100Mi, available: 51Mi.");
            evicted["status"]["containerStatuses"][0]["state"] =
                json!({ "terminated": { "exitCode": 137, "reason": "ContainerStatusUnknown" } });
            cluster.put("pods", evicted);
            changed.notify_all();
        });
    }
    let state = Arc::clone(state);
    std::thread::spawn(move || {
        let mut reader = reader;
        let mut buffer = [0u8; 4096];
        let started = Instant::now();
        loop {
            let n = reader.read(&mut buffer).unwrap_or(0);
            if n == 0 {
                break;
            }
            let (lock, changed) = &*state;
            let mut cluster = lock.lock().unwrap();
            if let Some((log, _)) = cluster.logs.get_mut(&pod_name) {
                log.extend_from_slice(&buffer[..n]);
            }
            changed.notify_all();
        }
        let code = child.wait().ok().and_then(|s| {
            use std::os::unix::process::ExitStatusExt;
            s.code().or_else(|| s.signal().map(|n| 128 + n))
        });
        let (lock, changed) = &*state;
        let mut cluster = lock.lock().unwrap();
        if let Some((_, done)) = cluster.logs.get_mut(&pod_name) {
            *done = true;
        }
        cluster.running.remove(&pod_name);
        // A pod deleted meanwhile stays deleted; an evicted one, evicted.
        let key = ("pods".to_string(), pod_name.clone());
        let evicted = cluster.objects.get(&key).is_some_and(|p| p["status"]["reason"] == json!("Evicted"));
        if cluster.objects.contains_key(&key) && !evicted {
            // The stand-in for an image whose container passes its memory limit.
            let (code, reason) = match code.unwrap_or(137) {
                _ if image.contains("oom-test") => (137, "OOMKilled"),
                0 => (0, "Completed"),
                code => (code, "Error"),
            };
            let past = started.elapsed() >= Duration::from_secs(deadline);
            let mut ended = running.clone();
            ended["status"]["phase"] = json!(if code == 0 { "Succeeded" } else { "Failed" });
            if past {
                ended["status"]["reason"] = json!("DeadlineExceeded");
            }
            ended["status"]["containerStatuses"][0]["ready"] = json!(false);
            ended["status"]["containerStatuses"][0]["state"] =
                json!({ "terminated": { "exitCode": code, "reason": reason } });
            cluster.put("pods", ended);
        }
        changed.notify_all();
    });
}
