import { createHash } from "node:crypto";
import { chmod, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalConnection } from "../../../src/connection/local.js";
import { ansibleStat, parseStatScript, statModule } from "../../../src/modules/files/stat.js";
import { converge, scratchDir } from "../harness.js";

describe("stat report", () => {
  it("maps a state to Ansible's field names", () => {
    const report = ansibleStat({
      stat: {
        path: "/f",
        exists: true,
        type: "file",
        mode: "0640",
        uid: 0,
        gid: 4,
        owner: "root",
        group: "adm",
        size: 3,
        mtime: 9,
      },
      access: "rw",
      checksum: "abc",
    });
    expect(report).toEqual({
      exists: true,
      path: "/f",
      isreg: true,
      isdir: false,
      islnk: false,
      mode: "0640",
      uid: 0,
      gid: 4,
      pw_name: "root",
      gr_name: "adm",
      size: 3,
      mtime: 9,
      executable: false,
      readable: true,
      writeable: true,
      checksum: "abc",
    });
    expect(ansibleStat({ stat: { path: "/n", exists: false }, access: "" })).toEqual({ exists: false });
  });

  it("parses the helper command's lines", () => {
    expect(parseStatScript("rx\n/real\nabc\n\n\n-\n-\n")).toEqual({
      access: "rx",
      realpath: "/real",
      checksum: "abc",
    });
    expect(parseStatScript("\n\n\n\n\n-\n-\n")).toEqual({
      access: "",
      realpath: undefined,
      checksum: undefined,
    });
  });

  it("reads stat -c, file and lsattr the way Ansible's stat module reads os.stat, file and lsattr", () => {
    const state = parseStatScript(
      "rw\n\nsum\n\n89ed 12 65024 1 1796549247.632353226 1796549247.632353226 1796549247.632353226 8 4096 0\n" +
        "/x: text/plain; charset=us-ascii\n1362332332 --------------e------- /x\n",
    );
    const stat = ansibleStat({
      ...state,
      stat: { path: "/x", exists: true, type: "file", uid: 0, gid: 0, size: 6 },
    });
    expect(stat).toMatchObject({
      mode: "4755",
      isreg: true,
      isuid: true,
      xoth: true,
      woth: false,
      inode: 12,
      mtime: 1796549247.6323533,
      block_size: 4096,
      mimetype: "text/plain",
      charset: "us-ascii",
      version: "1362332332",
      attr_flags: "e",
      attributes: ["extents"],
      checksum: "sum",
    });
    const failed = ansibleStat({ ...parseStatScript("\n\n\n\n\n\n\n"), stat: { path: "/y", exists: true } });
    expect(failed).toMatchObject({
      mimetype: "unknown",
      charset: "unknown",
      version: null,
      attributes: [],
      attr_flags: "",
    });
  });
});

describe("stat on real paths", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  const conn = new LocalConnection();
  beforeEach(async () => ({ dir, cleanup } = await scratchDir()));
  afterEach(() => cleanup());

  it("reports a file with its sha1, and never plans a change", async () => {
    const path = join(dir, "f");
    await writeFile(path, "hello\n");
    await chmod(path, 0o750);
    const run = await converge(statModule, { path }, conn);
    expect(run.changes).toEqual([]);
    expect(run.report?.stat).toMatchObject({
      exists: true,
      isreg: true,
      mode: "0750",
      size: 6,
      executable: true,
      checksum: createHash("sha1").update("hello\n").digest("hex"),
    });
  });

  it("reports links unfollowed by default and followed on request", async () => {
    const target = join(dir, "t");
    await writeFile(target, "x");
    await symlink(target, join(dir, "l"));
    const plain = await converge(statModule, { path: join(dir, "l") }, conn);
    expect(plain.report?.stat).toMatchObject({
      islnk: true,
      isreg: false,
      lnk_source: target,
      lnk_target: target,
    });
    expect(plain.report?.stat).not.toHaveProperty("checksum");
    const followed = await converge(statModule, { path: join(dir, "l"), follow: true }, conn);
    expect(followed.report?.stat).toMatchObject({ islnk: false, isreg: true, size: 1 });
  });

  it("reports absent paths and directories", async () => {
    expect((await converge(statModule, { path: join(dir, "none") }, conn)).report).toEqual({
      stat: { exists: false },
    });
    expect((await converge(statModule, { path: dir, get_checksum: false }, conn)).report?.stat).toMatchObject(
      {
        isdir: true,
      },
    );
  });
});
