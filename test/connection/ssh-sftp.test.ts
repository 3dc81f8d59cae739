import { NodeSSH } from "node-ssh";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type SftpClient, SftpFiles } from "../../src/connection/sftp-files.js";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection, WriteOptions } from "../../src/connection/types.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const lab = sharedLab();
const DIR = "/tmp/sftp-parity";

// readFile and stat go over SFTP (no process per call on the host); the shell scripts answer when
// SFTP cannot. Both must give the same answers, byte for byte.
describe.skipIf(!lab)("readFile and stat over SFTP vs the shell scripts", () => {
  let sftp: Connection;
  let shell: Connection;
  let releaseHome: () => Promise<void>;

  beforeAll(async () => {
    releaseHome = (await isolateHome()).release;
    const host = lab!.hosts[1];
    sftp = await openSsh(labSettings(lab!, host));
    shell = await openSsh(labSettings(lab!, host), { sftp: false });
    const setup = [
      `rm -rf ${DIR} && mkdir -p ${DIR}/dir && cd ${DIR}`,
      "printf 'text\\n' > file && chmod 4751 file",
      "printf '\\000\\001\\377\\r\\n' > binary",
      ": > empty",
      "head -c 300000 /dev/urandom > big",
      "ln -s file link && ln -s missing dangling && ln -s dir dirlink",
      "mkfifo fifo",
      "printf x > nobody && chown 65534:65534 nobody",
      "printf y > unnamed && chown 4321:4322 unnamed",
    ].join(" && ");
    expect((await sftp.run(setup)).rc).toBe(0);
  });
  afterAll(async () => {
    await sftp.run(`rm -rf ${DIR}`);
    await Promise.all([sftp.close(), shell.close()]);
    await releaseHome();
  });

  const paths = [
    "file",
    "binary",
    "empty",
    "big",
    "link",
    "dangling",
    "dirlink",
    "dir",
    "fifo",
    "nobody",
    "unnamed",
    "absent",
    "file/below-a-file",
  ].map((p) => `${DIR}/${p}`);
  paths.push("/proc/irq/24/smp_affinity_list", "/etc/passwd", "/");

  test("readFile: same stat, link target and content for every kind of path", async () => {
    for (const path of paths) expect(await sftp.readFile(path), path).toEqual(await shell.readFile(path));
    const big = await sftp.readFile(`${DIR}/big`);
    expect(big.content?.length).toBe(300000);
    expect((await sftp.readFile(`${DIR}/unnamed`)).owner).toBe("UNKNOWN");
  });

  test("stat, with and without follow: same answers", async () => {
    for (const path of paths) {
      expect(await sftp.stat(path), path).toEqual(await shell.stat(path));
      expect(await sftp.stat(path, { follow: true }), path).toEqual(await shell.stat(path, { follow: true }));
    }
  });

  test("account names follow changes made on the host", async () => {
    const path = `${DIR}/unnamed`;
    expect((await sftp.stat(path)).owner).toBe("UNKNOWN");
    await sftp.run(
      "cp /etc/passwd /tmp/passwd.saved && echo 'tk-user:x:4321:4321::/:/bin/sh' >> /etc/passwd",
    );
    try {
      expect(await sftp.stat(path)).toMatchObject({ owner: "tk-user", uid: 4321 });
      await sftp.writeFile("/etc/group", `${(await sftp.readFile("/etc/group")).content}tk-group:x:4322:\n`);
      expect(await sftp.stat(path)).toMatchObject({ group: "tk-group", gid: 4322 });
      expect(await sftp.stat(path)).toEqual(await shell.stat(path));
    } finally {
      await sftp.run("cp /tmp/passwd.saved /etc/passwd && sed -i '/^tk-group:/d' /etc/group");
    }
    expect((await sftp.stat(path)).owner).toBe("UNKNOWN");
  });

  test("account names: a change of the same size in the same second is seen too", async () => {
    const path = `${DIR}/owned-4321`; // group root: only the owner name comes from the change
    await sftp.run(
      `cp -p /etc/passwd /tmp/passwd.saved && echo 'tk-aaaa:x:4321:4321::/:/bin/sh' >> /etc/passwd && printf o > ${path} && chown 4321:0 ${path}`,
    );
    try {
      expect((await sftp.stat(path)).owner).toBe("tk-aaaa");
      // Same size, and the mtime put back: only the content tells the change.
      const rename =
        "m=$(stat -c %Y /etc/passwd) && sed -i 's/^tk-aaaa:/tk-bbbb:/' /etc/passwd && touch -m -d @$m /etc/passwd";
      expect((await sftp.run(rename)).rc).toBe(0);
      expect((await sftp.stat(path)).owner).toBe("tk-bbbb");
      expect(await sftp.readFile(path)).toEqual(await shell.readFile(path));
    } finally {
      await sftp.run("cp -p /tmp/passwd.saved /etc/passwd");
    }
    expect((await sftp.stat(path)).owner).toBe("UNKNOWN");
  });

  /**
   * SftpFiles over a raw SFTP channel to lab host 1 whose requests are recorded as
   * "<request> <path>" (listeners left out); `use` runs with it, the connection is closed after.
   * `hold`, when given, sees each request first and may delay it (until its promise settles).
   */
  async function withCountedSftp(
    use: (files: SftpFiles, requests: string[]) => Promise<void>,
    hold?: (request: string, args: unknown[]) => Promise<void> | undefined,
  ) {
    const ssh = new NodeSSH();
    const host = lab!.hosts[1];
    await ssh.connect({
      host: host.address,
      port: host.port,
      username: "root",
      privateKeyPath: lab!.keyFile,
    });
    try {
      const raw = (await ssh.requestSFTP()) as unknown as SftpClient;
      const requests: string[] = [];
      const counted = new Proxy(raw, {
        get(target, name) {
          const value = Reflect.get(target, name);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            if (name !== "on")
              requests.push(`${String(name)} ${typeof args[0] === "string" ? args[0] : ""}`.trim());
            const held = hold?.(String(name), args);
            if (!held) return value.apply(target, args);
            void held.then(() => value.apply(target, args));
          };
        },
      });
      const files = new SftpFiles(counted);
      try {
        await use(files, requests);
      } finally {
        files.close();
      }
    } finally {
      ssh.dispose();
    }
  }

  test("account names are read once, and after a command only checked (one stat per file) unless changed", async () => {
    await withCountedSftp(async (files, requests) => {
      const file = `${DIR}/file`;
      const opened = () => requests.filter((r) => r.startsWith("open ")).map((r) => r.slice(5));
      // Settled files (changed more than 2 s ago): their stamps can be trusted.
      expect((await sftp.run("touch -m -d '-10 seconds' /etc/passwd /etc/group")).rc).toBe(0);

      expect((await files.readFile(file))?.content?.toString()).toBe("text\n");
      expect(opened().sort()).toEqual(["/etc/group", "/etc/passwd", file]);
      requests.length = 0;
      files.recheckNames();
      expect((await files.readFile(file))?.owner).toBe("root");
      expect(opened()).toEqual([file]);
      expect(requests.filter((r) => /^l?stat /.test(r)).sort()).toEqual([
        `lstat ${file}`,
        "stat /etc/group",
        "stat /etc/passwd",
      ]);
      // Without a command in between: nothing but the file's own requests.
      requests.length = 0;
      await files.stat(file);
      expect(requests).toEqual([`lstat ${file}`]);

      // Changed (and settled again): read again.
      expect(
        (
          await sftp.run(
            `cp -p /etc/group /tmp/group.saved && echo 'tk-g:x:4322:' >> /etc/group && touch -m -d '-10 seconds' /etc/group && printf g > ${DIR}/gfile && chown 0:4322 ${DIR}/gfile`,
          )
        ).rc,
      ).toBe(0);
      try {
        requests.length = 0;
        files.recheckNames();
        expect((await files.stat(`${DIR}/gfile`))?.group).toBe("tk-g");
        expect(opened().sort()).toEqual(["/etc/group", "/etc/passwd"]);
      } finally {
        await sftp.run("cp -p /tmp/group.saved /etc/group");
      }
    });
  });

  test("readFile: one lstat, open, read and close for a small file; a link adds readlink and stat", async () => {
    await withCountedSftp(async (files, requests) => {
      const names = () => requests.map((r) => r.split(" ")[0]);
      await files.stat("/"); // account names read
      requests.length = 0;
      await files.readFile(`${DIR}/file`);
      expect(names()).toEqual(["lstat", "open", "read", "close"]);
      requests.length = 0;
      expect((await files.readFile(`${DIR}/link`))?.content?.toString()).toBe("text\n");
      expect(names()).toEqual(["lstat", "readlink", "stat", "open", "read", "close"]);
      requests.length = 0;
      expect((await files.readFile(`${DIR}/fifo`))?.type).toBe("other");
      expect(names()).toEqual(["lstat"]);
    });
  });

  test("writeFile: same result as the shell script in every case, no temp file left", async () => {
    const cases: [string, string | Buffer, WriteOptions][] = [
      ["new", "new\n", {}],
      ["existing", "changed\n", {}],
      ["explicit", Buffer.from([0, 255, 10]), { mode: "0640", owner: "nobody", group: "root" }],
      ["owner-only", "o", { owner: "nobody" }],
      ["group-only", "g", { group: "nogroup" }],
      ["symbolic", "s", { mode: "u=rw,go=r" }],
      ["link", "through a link", {}],
      ["setuid", "suid", { mode: "4755", owner: "nobody", group: "nogroup" }],
      ["numeric", "n", { owner: "4321", group: "4322" }],
      ["empty", "", { mode: "0600" }],
      ["big", Buffer.alloc(300_001, "0123456789abcdef"), { mode: "0600" }],
    ];
    const setup = (d: string) =>
      [
        `rm -rf ${d} && mkdir -p ${d} && cd ${d}`,
        "printf old > existing && chmod 0604 existing && chown nobody:nogroup existing",
        "printf old > linked && chmod 0600 linked && ln -s linked link",
      ].join(" && ");
    const state = async (d: string) =>
      (
        await shell.run(
          `cd ${d} && ls -A && for f in *; do stat -c '%n %F %a %u %g %s' "$f"; md5sum < "$f"; done`,
        )
      ).stdout;
    const [a, b] = [`${DIR}/write-sftp`, `${DIR}/write-shell`];
    expect((await shell.run(`${setup(a)} && ${setup(b)}`)).rc).toBe(0);
    for (const [name, content, options] of cases) {
      await sftp.writeFile(`${a}/${name}`, content, options);
      await shell.writeFile(`${b}/${name}`, content, options);
    }
    const after = await state(a);
    expect(after).toEqual(await state(b));
    expect(after).not.toContain("tickless");
    expect(after).toContain("link regular file 600 0 0 14");
    // Owner, then mode: chown would clear the setuid bit set before it.
    expect(after).toContain("setuid regular file 4755 65534 65534 4");
    const missing = (c: Connection) => c.writeFile("/tmp/no/such/dir/f", "x").catch((e: Error) => e.message);
    expect(await missing(sftp)).toEqual(await missing(shell));
    expect(await missing(sftp)).toContain("cannot write /tmp/no/such/dir/f");
  });

  test("writeFile with readBack: the file as readFile then finds it, its requests sent behind the rename", async () => {
    await withCountedSftp(async (files, requests) => {
      const path = `${DIR}/read-back`;
      for (const [content, mode] of [
        ["first\n", "0640"],
        ["x".repeat(20_000), "0600"],
      ] as const) {
        requests.length = 0;
        const done = await files.writeFile(path, Buffer.from(content), { mode, readBack: true });
        const back = done ? done.readBack : undefined;
        expect(back?.content?.toString()).toBe(content);
        expect(back).toEqual(await shell.readFile(path));
        expect(back?.mode).toBe(mode);
        const rename = requests.findIndex((r) => r.startsWith("ext_openssh_rename "));
        const after = requests.slice(rename + 1).filter((r) => r.endsWith(path) || r === "read");
        expect(after.slice(0, 3)).toEqual([`lstat ${path}`, `open ${path}`, "read"]);
      }
      // without readBack, nothing is read after the rename
      requests.length = 0;
      expect(await files.writeFile(path, Buffer.from("z\n"), { mode: "0644" })).toEqual({
        readBack: undefined,
      });
      expect(requests.some((r) => r === `lstat ${path}` || r === `open ${path}`)).toBe(false);
    });
  });

  test("writeFile: the temp file is created 0600, and is so while its content arrives", async () => {
    let temp: string | undefined;
    let createdWith: unknown;
    let order = Promise.resolve();
    const seen: string[] = [];
    await withCountedSftp(
      async (files) => {
        const path = `${DIR}/secret-write`;
        const content = Buffer.alloc(100_000, "s");
        expect(await files.writeFile(path, content, { mode: "0640", owner: "root", group: "root" })).toEqual({
          readBack: undefined,
        });
        expect((await shell.stat(path)).mode).toBe("0640");
      },
      (request, args) => {
        if (request === "open" && args[1] === "wx") {
          temp = args[0] as string;
          createdWith = args[2];
        }
        if (!temp) return undefined;
        // Each chunk waits for a look at the temp file from a shell on the host; the requests
        // after it wait their turn, so they reach the server in the order sent.
        const look = request === "write" ? temp : undefined;
        order = order.then(async () => {
          if (look) seen.push((await shell.run(`stat -c '%a %U' ${look}`)).stdout.trim());
        });
        return order;
      },
    );
    expect(createdWith).toEqual({ mode: 0o600 });
    expect(seen.length).toBeGreaterThan(1);
    expect(new Set(seen)).toEqual(new Set(["600 root"]));
  });

  test("when sftp-server dies, the shell scripts answer (no hang)", async () => {
    const own = await openSsh(labSettings(lab!, lab!.hosts[1]));
    try {
      expect((await own.stat(`${DIR}/file`)).mode).toBe("4751");
      // This connection's sftp-server (internal-sftp in the lab): a child of the sshd process that
      // runs its session shell, the command's nearest sshd ancestor.
      const kill = [
        "s=$PPID",
        'until [ "0$s" -le 1 ] || case $(ps -o comm= -p "$s") in sshd*) true ;; *) false ;; esac; do s=$(ps -o ppid= -p "$s" | tr -d " "); done',
        'pkill -KILL -P "$s" -f sftp && echo killed',
      ].join("; ");
      expect((await own.run(kill)).stdout).toBe("killed\n");
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await own.readFile(`${DIR}/file`)).toEqual(await shell.readFile(`${DIR}/file`));
      await own.writeFile(`${DIR}/after-kill`, "ok");
      expect((await own.readFile(`${DIR}/after-kill`)).content?.toString()).toBe("ok");
    } finally {
      await own.close();
    }
  });

  test("measure: ms per readFile / stat / writeFile, SFTP vs shell scripts", async () => {
    const file = `${DIR}/measured`;
    await sftp.writeFile(file, "z".repeat(2000));
    const perOp = async (fn: () => Promise<unknown>, n = 50) => {
      const start = performance.now();
      for (let i = 0; i < n; i++) await fn();
      return Math.round(((performance.now() - start) / n) * 100) / 100;
    };
    const ms = {
      sftpReadMs: await perOp(() => sftp.readFile(file)),
      shellReadMs: await perOp(() => shell.readFile(file)),
      sftpStatMs: await perOp(() => sftp.stat(file)),
      shellStatMs: await perOp(() => shell.stat(file)),
      writeMs: await perOp(() => sftp.writeFile(file, "w".repeat(2000))),
    };
    console.log(JSON.stringify(ms));
    expect(ms.sftpStatMs).toBeLessThan(ms.shellStatMs);
  });
});
