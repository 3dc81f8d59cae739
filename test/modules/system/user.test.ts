import { describe, expect, it } from "vitest";
import {
  PASSWORD,
  parseUserProbe,
  planUser,
  type UserArgs,
  type UserState,
  useraddArgv,
  usermodArgv,
  userWarnings,
} from "../../../src/modules/system/user-plan.js";

const PROBE = [
  "passwd app:x:1001:1001:App:/home/app:/bin/sh",
  "group app:x:1001:",
  "group wheel:x:10:app",
  "group ops:x:20:bob",
  "password same",
  "home yes",
].join("\n");
const present = parseUserProbe(PROBE, "app");
const absent: UserState = { ...parseUserProbe(PROBE.replace(/^passwd .*\n/, ""), "app"), user: undefined };
const HASH =
  "$6$saltsalt$IG4VjV/YSq/MNgIB45HCraj2ZVoOSH7w7Kmdnqbp3QUKqCLjZHLltSXHE4yBSLdnLa0QoF75KtXO.LtmabF3o1";

describe("user plan", () => {
  it("reads getent's lines", () => {
    expect(present.user).toEqual({
      name: "app",
      uid: 1001,
      gid: 1001,
      comment: "App",
      home: "/home/app",
      shell: "/bin/sh",
    });
    expect(present.groups.find((g) => g.name === "wheel")?.members).toEqual(["app"]);
    expect(parseUserProbe("passwd other:x:1:1::/:/bin/sh\nhome no", "app").user).toBeUndefined();
  });

  it.each([
    ["a new account, -N beside a group of its name", { name: "app" }, ["useradd", "-N", "-m", "app"]],
    [
      "uid, primary group, groups, comment, home, shell, hash, system",
      {
        name: "app",
        uid: 7,
        non_unique: true,
        group: "ops",
        groups: ["wheel", " ops"],
        comment: "c",
        home: "/srv/app",
        shell: "/bin/bash",
        password: HASH,
        system: true,
      },
      [
        "useradd",
        "-u",
        "7",
        "-o",
        "-g",
        "ops",
        "-G",
        "wheel,ops",
        "-c",
        "c",
        "-d",
        "/srv/app",
        "-s",
        "/bin/bash",
        "-p",
        PASSWORD,
        "-m",
        "-r",
        "app",
      ],
    ],
    ["no home", { name: "app", create_home: false, group: "10" }, ["useradd", "-g", "10", "-M", "app"]],
  ] as const)("useradd: %s", (_name, args, argv) => {
    expect(useraddArgv(args as UserArgs, absent)).toEqual(argv);
  });

  it.each([
    [
      "nothing differs",
      { name: "app", uid: 1001, group: "app", groups: ["wheel"], shell: "/bin/sh", password: HASH },
      [],
    ],
    ["the primary group by gid", { name: "app", group: "20" }, ["usermod", "-g", "20", "app"]],
    ["groups replaced", { name: "app", groups: ["ops"] }, ["usermod", "-G", "ops", "app"]],
    [
      "groups appended",
      { name: "app", groups: ["ops"], append: true },
      ["usermod", "-a", "-G", "ops", "app"],
    ],
    ["appended groups it has", { name: "app", groups: ["wheel"], append: true }, []],
    ["no groups", { name: "app", groups: [] }, ["usermod", "-G", "", "app"]],
    [
      "home moved",
      { name: "app", home: "/srv/app", move_home: true },
      ["usermod", "-d", "/srv/app", "-m", "app"],
    ],
  ] as const)("usermod: %s", (_name, args, argv) => {
    expect(usermodArgv(args as UserArgs, present)).toEqual(argv);
  });

  it("a hash that differs, unless on_create; the hash never in a plan", () => {
    const differs = { ...present, passwordDiffers: true };
    const changes = planUser({ name: "app", password: HASH }, differs);
    expect(changes.map((c) => c.summary)).toEqual(["usermod -p ******** app"]);
    expect(JSON.stringify(changes)).not.toContain(HASH);
    expect(planUser({ name: "app", password: HASH, update_password: "on_create" }, differs)).toEqual([]);
  });

  it("a missing home is made unless create_home is false; absent removes", () => {
    const homeless = { ...present, homeExists: false };
    expect(planUser({ name: "app" }, homeless).map((c) => c.summary)).toEqual(["create home directory"]);
    expect(planUser({ name: "app", create_home: false }, homeless)).toEqual([]);
    expect(planUser({ name: "app", state: "absent", remove: true, force: true }, present)[0].summary).toBe(
      "userdel -f -r app",
    );
    expect(planUser({ name: "app", state: "absent" }, absent)).toEqual([]);
  });

  it("warns as Ansible of a password that is no hash and of append without groups", () => {
    expect(userWarnings({ name: "app", password: HASH })).toEqual([]);
    expect(userWarnings({ name: "app", password: "plain", append: true })).toHaveLength(2);
  });
});
