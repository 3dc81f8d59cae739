/**
 * The probe after apply reads the files apply wrote from their read-backs (engine/read-back.ts), on a
 * real lab host over SFTP: no further read of those paths, the same answer readFile gives, and after
 * a command the host is asked again.
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
});
