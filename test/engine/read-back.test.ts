/**
 * The probe after apply reads the files apply wrote from their read-backs (engine/read-back.ts), on a
 * real lab host over SFTP: no further read of those paths, the same answer readFile gives, and after
 * a command the host is asked again. Kept across a loop's items (keepReads), what a probe read
 * answers the next probe, until a write (for the reads of other paths), a command or a removal.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { openSsh } from "../../src/connection/ssh.js";
import type { Connection, HostWriter } from "../../src/connection/types.js";
import { ReadBacks } from "../../src/engine/read-back.js";
import { isolateHome, labSettings, sharedLab } from "../lab/use-lab.js";

const lab = sharedLab();
const DIR = "/tmp/read-back";

describe.skipIf(!lab)("read-backs of apply's writes", () => {
  let conn: Connection;
  let releaseHome: () => Promise<void>;
  const reads: string[] = [];
  let host: HostWriter;

  beforeAll(async () => {
    releaseHome = (await isolateHome()).release;
    conn = await openSsh(labSettings(lab!, lab!.hosts[0]));
    expect((await conn.run(`rm -rf ${DIR} && mkdir -p ${DIR}`)).rc).toBe(0);
    host = {
      name: conn.name,
      run: (c, o) => conn.run(c, o),
      readFile: (p, o) => {
        reads.push(`readFile ${p}`);
        return conn.readFile(p, o);
      },
      stat: (p, o) => {
        reads.push(`stat ${p}`);
        return conn.stat(p, o);
      },
      writeFile: (p, c, o) => conn.writeFile(p, c, o),
      remove: (p, o) => conn.remove(p, o),
    };
  });
  afterAll(async () => {
    await conn.run(`rm -rf ${DIR}`);
    await conn.close();
    await releaseHome();
  });

  test("a written file: the probe after apply gets what readFile gives, without reading it", async () => {
    const backs = new ReadBacks();
    const file = `${DIR}/grub`;
    await backs.writing(host).writeFile(file, "GRUB_TIMEOUT=1\n", { mode: "0640" });
    reads.length = 0;
    const probe = backs.reading(host);
    const got = await probe.readFile(file);
    const stat = await probe.stat(file);
    expect(reads).toEqual([]);
    expect(got).toEqual(await conn.readFile(file));
    expect(got.content?.toString()).toBe("GRUB_TIMEOUT=1\n");
    expect(stat).toEqual(await conn.stat(file));
    // another path is read from the host
    await probe.readFile(`${DIR}/other`);
    expect(reads).toEqual([`readFile ${DIR}/other`]);
  });

  test("a command after the write (in apply or in the probe): the host is read again", async () => {
    for (const when of ["apply", "probe"] as const) {
      const backs = new ReadBacks();
      const file = `${DIR}/changed-${when}`;
      const apply = backs.writing(host);
      await apply.writeFile(file, "a\n", { mode: "0644" });
      if (when === "apply") await apply.run(`printf 'b\\n' > ${file}`);
      const probe = backs.reading(host);
      if (when === "probe") await probe.run(`printf 'b\\n' > ${file}`);
      reads.length = 0;
      expect((await probe.readFile(file)).content?.toString()).toBe("b\n");
      expect(reads).toEqual([`readFile ${file}`]);
    }
  });

  test("keepReads: a probe's reads answer the next probe; a write drops the others (a link shows it), not its read-back", async () => {
    const kept = new ReadBacks(true);
    const file = `${DIR}/kept`;
    const link = `${DIR}/kept-link`;
    expect((await conn.run(`printf 'one\\n' > ${file} && ln -sfn ${file} ${link}`)).rc).toBe(0);
    reads.length = 0;
    const first = kept.reading(host);
    expect((await first.readFile(file)).content?.toString()).toBe("one\n");
    expect((await first.readFile(link)).content?.toString()).toBe("one\n");
    expect((await first.stat(link)).type).toBe("link");
    expect(reads).toEqual([`readFile ${file}`, `readFile ${link}`, `stat ${link}`]);
    // the next item's probe: no read of the host
    reads.length = 0;
    const next = kept.reading(host);
    expect((await next.readFile(file)).content?.toString()).toBe("one\n");
    expect((await next.readFile(link)).content?.toString()).toBe("one\n");
    expect((await next.stat(link)).type).toBe("link");
    expect(reads).toEqual([]);
    // a write: its read-back stays, the link (which shows the new content) is read again
    await kept.writing(host).writeFile(file, "two\n", { mode: "0644" });
    reads.length = 0;
    const after = kept.reading(host);
    expect((await after.readFile(file)).content?.toString()).toBe("two\n");
    expect(reads).toEqual([]);
    expect((await after.readFile(link)).content?.toString()).toBe("two\n");
    expect((await after.stat(link)).type).toBe("link");
    expect(reads).toEqual([`readFile ${link}`, `stat ${link}`]);
    // a command drops everything
    await after.run(`printf 'three\\n' > ${file}`);
    reads.length = 0;
    expect((await kept.reading(host).readFile(file)).content?.toString()).toBe("three\n");
    expect(reads).toEqual([`readFile ${file}`]);
  });
});
