#include <fcntl.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <random>

#include "client/errno_map.h"
#include "client/input_stream.h"
#include "client/output_stream.h"
#include "common/logging.h"
#include "fuse/dfs_fuse.h"
#include "fuse/read_ahead.h"
#include "fuse/user_names.h"

namespace dfs {

namespace {

Mount* M(fuse_req_t req) { return static_cast<Mount*>(fuse_req_userdata(req)); }

// Replies with the errno for a failed status, logging the cause.
void ReplyError(fuse_req_t req, const char* op, const std::string& path, const Status& s) {
  int err = ToErrno(s);
  if (err != ENOENT && err != EEXIST) spdlog::warn("{} {}: {}", op, path, s.ToString());
  fuse_reply_err(req, err);
}

void FillAttr(const FileStatus& st, struct stat* out) {
  memset(out, 0, sizeof *out);
  bool dir = st.type() == proto::DIRECTORY;
  out->st_ino = st.inode_id();
  out->st_mode = (dir ? S_IFDIR : S_IFREG) | (st.mode() & 07777);
  out->st_nlink = dir ? 2 : 1;
  out->st_uid = UidOf(st.owner());
  out->st_gid = GidOf(st.group());
  out->st_size = static_cast<off_t>(st.length());
  out->st_blksize = 1 << 20;
  out->st_blocks = static_cast<blkcnt_t>((st.length() + 511) / 512);
  out->st_mtim.tv_sec = st.mtime_ms() / 1000;
  out->st_mtim.tv_nsec = (st.mtime_ms() % 1000) * 1000000;
  out->st_atim.tv_sec = st.atime_ms() / 1000;
  out->st_atim.tv_nsec = (st.atime_ms() % 1000) * 1000000;
  out->st_ctim = out->st_mtim;
}

// Looks path up and describes it to the kernel, taking a lookup reference.
bool MakeEntry(Mount* m, const std::string& path, struct fuse_entry_param* e, Status* s) {
  auto st = m->fs->GetFileStatus(path);
  if (!st.ok()) {
    *s = st.status();
    return false;
  }
  memset(e, 0, sizeof *e);
  e->ino = st->inode_id();
  e->attr_timeout = m->options.attr_timeout;
  e->entry_timeout = m->options.entry_timeout;
  FillAttr(*st, &e->attr);
  m->inodes.Ref(e->ino, path);
  return true;
}

// Resolves ino to a path, or replies ESTALE and returns false.
bool PathOf(fuse_req_t req, fuse_ino_t ino, std::string* path) {
  auto p = M(req)->inodes.PathOf(ino);
  if (!p) {
    fuse_reply_err(req, ESTALE);
    return false;
  }
  *path = *p;
  return true;
}

// Gives a file created by the mount to the user who created it.
void ChownToCaller(fuse_req_t req, const std::string& path) {
  const struct fuse_ctx* ctx = fuse_req_ctx(req);
  if (ctx->uid == getuid()) return;
  M(req)->fs->SetOwner(path, UserName(ctx->uid), GroupName(ctx->gid));
}

// An open file. Reads go through `in`; writes through `out`, which writes to `target`
// (the file itself, or a hidden temporary that replaces it on close after O_TRUNC).
struct OpenFile {
  std::mutex mu;
  std::string path;
  std::shared_ptr<ReadAhead> in;  // shared with reads still reading ahead after replying
  std::unique_ptr<OutputStream> out;
  std::string replace_on_close;  // the temporary to rename over path
  bool writable = false;
  bool closed = false;
};

OpenFile* FileOf(struct fuse_file_info* fi) { return reinterpret_cast<OpenFile*>(fi->fh); }

std::string TempName(const std::string& path) {
  std::random_device rd;
  size_t slash = path.rfind('/');
  return path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".dfs-tmp-" +
         std::to_string(rd());
}

// Finishes writing: closes the stream and, after O_TRUNC, moves the new file into place.
Status CloseForWriting(Mount* m, OpenFile* f) {
  if (f->closed || !f->out) return Status::Ok();
  f->closed = true;
  Status s = f->out->Close();
  if (s.ok() && !f->replace_on_close.empty()) {
    s = m->fs->RenameReplace(f->replace_on_close, f->path);
  }
  if (!s.ok() && !f->replace_on_close.empty()) m->fs->Delete(f->replace_on_close, false);
  return s;
}

void Lookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  std::string dir;
  if (!PathOf(req, parent, &dir)) return;
  struct fuse_entry_param e;
  Status s;
  if (MakeEntry(M(req), ChildPath(dir, name), &e, &s)) {
    fuse_reply_entry(req, &e);
  } else {
    ReplyError(req, "lookup", ChildPath(dir, name), s);
  }
}

void Forget(fuse_req_t req, fuse_ino_t ino, uint64_t n) {
  M(req)->inodes.Forget(ino, n);
  fuse_reply_none(req);
}

void ForgetMulti(fuse_req_t req, size_t count, struct fuse_forget_data* forgets) {
  for (size_t i = 0; i < count; ++i) M(req)->inodes.Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void GetAttr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info*) {
  std::string path;
  if (!PathOf(req, ino, &path)) return;
  auto st = M(req)->fs->GetFileStatus(path);
  if (!st.ok()) return ReplyError(req, "getattr", path, st.status());
  struct stat attr;
  FillAttr(*st, &attr);
  attr.st_ino = ino;
  fuse_reply_attr(req, &attr, M(req)->options.attr_timeout);
}

void SetAttr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
             struct fuse_file_info* fi) {
  Mount* m = M(req);
  std::string path;
  if (!PathOf(req, ino, &path)) return;
  if (m->options.read_only) return (void)fuse_reply_err(req, EROFS);
  Status s;
  if (to_set & FUSE_SET_ATTR_MODE) s = m->fs->SetPermission(path, attr->st_mode & 07777);
  if (s.ok() && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
    std::string owner, group;
    if (to_set & FUSE_SET_ATTR_UID) owner = UserName(attr->st_uid);
    if (to_set & FUSE_SET_ATTR_GID) group = GroupName(attr->st_gid);
    s = m->fs->SetOwner(path, owner, group);
  }
  if (s.ok() && (to_set & FUSE_SET_ATTR_SIZE)) {
    auto st = m->fs->GetFileStatus(path);
    s = st.status();
    OpenFile* f = fi ? FileOf(fi) : nullptr;
    bool open_empty = f && f->out && f->out->position() == 0;
    if (s.ok() && static_cast<uint64_t>(attr->st_size) != st->length() && !open_empty) {
      if (attr->st_size != 0) {
        return (void)fuse_reply_err(req, EOPNOTSUPP);  // only truncation to zero
      }
      CreateOptions o;
      o.overwrite = true;
      o.mode = st->mode();
      auto out = m->fs->Create(path, o);
      s = out.ok() ? (*out)->Close() : out.status();
    }
  }
  if (s.ok() && (to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME))) {
    auto ms = [](const struct timespec& t) { return t.tv_sec * 1000 + t.tv_nsec / 1000000; };
    int64_t now = static_cast<int64_t>(time(nullptr)) * 1000;
    int64_t mtime = -1, atime = -1;
    if (to_set & FUSE_SET_ATTR_MTIME) mtime = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? now : ms(attr->st_mtim);
    if (to_set & FUSE_SET_ATTR_ATIME) atime = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? now : ms(attr->st_atim);
    s = m->fs->SetTimes(path, mtime, atime);
  }
  if (!s.ok()) return ReplyError(req, "setattr", path, s);
  GetAttr(req, ino, fi);
}

void MkDir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  Mount* m = M(req);
  std::string dir;
  if (!PathOf(req, parent, &dir)) return;
  if (m->options.read_only) return (void)fuse_reply_err(req, EROFS);
  std::string path = ChildPath(dir, name);
  Status s = m->fs->Mkdirs(path, false, mode & 07777 & ~fuse_req_ctx(req)->umask);
  if (!s.ok()) return ReplyError(req, "mkdir", path, s);
  ChownToCaller(req, path);
  struct fuse_entry_param e;
  if (!MakeEntry(m, path, &e, &s)) return ReplyError(req, "mkdir", path, s);
  fuse_reply_entry(req, &e);
}

void Remove(fuse_req_t req, fuse_ino_t parent, const char* name, bool want_dir) {
  Mount* m = M(req);
  std::string dir;
  if (!PathOf(req, parent, &dir)) return;
  if (m->options.read_only) return (void)fuse_reply_err(req, EROFS);
  std::string path = ChildPath(dir, name);
  // The kernel has already refused unlink of a directory and rmdir of a file, from the
  // types it learned at lookup.
  Status s = m->fs->Delete(path, false);
  if (!s.ok()) return ReplyError(req, want_dir ? "rmdir" : "unlink", path, s);
  fuse_reply_err(req, 0);
}

void Unlink(fuse_req_t req, fuse_ino_t parent, const char* name) { Remove(req, parent, name, false); }
void RmDir(fuse_req_t req, fuse_ino_t parent, const char* name) { Remove(req, parent, name, true); }

void Rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
            const char* newname, unsigned int flags) {
  Mount* m = M(req);
  std::string from_dir, to_dir;
  if (!PathOf(req, parent, &from_dir) || !PathOf(req, newparent, &to_dir)) return;
  if (m->options.read_only) return (void)fuse_reply_err(req, EROFS);
  if (flags & ~RENAME_NOREPLACE) return (void)fuse_reply_err(req, EINVAL);
  std::string from = ChildPath(from_dir, name), to = ChildPath(to_dir, newname);
  if ((flags & RENAME_NOREPLACE) && m->fs->GetFileStatus(to).ok()) {
    return (void)fuse_reply_err(req, EEXIST);
  }
  Status s = m->fs->RenameReplace(from, to);
  if (!s.ok()) return ReplyError(req, "rename", from, s);
  m->inodes.Renamed(from, to);
  fuse_reply_err(req, 0);
}

struct DirListing {
  std::vector<FileStatus> entries;
};

void OpenDir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  std::string path;
  if (!PathOf(req, ino, &path)) return;
  auto list = M(req)->fs->ListStatus(path);
  if (!list.ok()) return ReplyError(req, "opendir", path, list.status());
  auto* d = new DirListing{std::move(*list)};
  fi->fh = reinterpret_cast<uint64_t>(d);
  fuse_reply_open(req, fi);
}

void ReadDirCommon(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                   struct fuse_file_info* fi, bool plus) {
  Mount* m = M(req);
  auto* d = reinterpret_cast<DirListing*>(fi->fh);
  std::vector<char> buf(size);
  size_t used = 0;
  // Offsets: 0 ".", 1 "..", then entry i at i + 2.
  for (off_t i = off; i < static_cast<off_t>(d->entries.size()) + 2; ++i) {
    struct stat st;
    memset(&st, 0, sizeof st);
    std::string name;
    const FileStatus* e = nullptr;
    if (i < 2) {
      name = i == 0 ? "." : "..";
      st.st_ino = ino;
      st.st_mode = S_IFDIR;
    } else {
      e = &d->entries[static_cast<size_t>(i - 2)];
      name = e->path().substr(e->path().rfind('/') + 1);
      FillAttr(*e, &st);
    }
    size_t n;
    if (plus) {
      struct fuse_entry_param ep;
      memset(&ep, 0, sizeof ep);
      ep.attr = st;
      if (e) {
        ep.ino = e->inode_id();
        ep.attr_timeout = m->options.attr_timeout;
        ep.entry_timeout = m->options.entry_timeout;
      }
      n = fuse_add_direntry_plus(req, buf.data() + used, size - used, name.c_str(), &ep, i + 1);
      if (n > size - used) break;
      if (e) m->inodes.Ref(e->inode_id(), e->path());
    } else {
      n = fuse_add_direntry(req, buf.data() + used, size - used, name.c_str(), &st, i + 1);
      if (n > size - used) break;
    }
    used += n;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void ReadDir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info* fi) {
  ReadDirCommon(req, ino, size, off, fi, false);
}
void ReadDirPlus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                 struct fuse_file_info* fi) {
  ReadDirCommon(req, ino, size, off, fi, true);
}

void ReleaseDir(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) {
  delete reinterpret_cast<DirListing*>(fi->fh);
  fuse_reply_err(req, 0);
}

// Opens path for writing per the open flags; sets f->out or returns why not.
Status OpenForWriting(Mount* m, OpenFile* f, int flags, const FileStatus* existing) {
  f->writable = true;
  if (flags & O_APPEND) {
    ASSIGN_OR_RETURN(f->out, m->fs->Append(f->path));
    return Status::Ok();
  }
  if ((flags & O_TRUNC) && existing && existing->length() > 0) {
    f->replace_on_close = TempName(f->path);
    CreateOptions o;
    o.mode = existing->mode();
    o.replication = existing->replication();
    o.block_size = existing->block_size();
    ASSIGN_OR_RETURN(f->out, m->fs->Create(f->replace_on_close, o));
    return Status::Ok();
  }
  if (existing && existing->length() == 0 && !existing->under_construction()) {
    CreateOptions o;
    o.overwrite = true;
    o.mode = existing->mode();
    ASSIGN_OR_RETURN(f->out, m->fs->Create(f->path, o));
    return Status::Ok();
  }
  // Writes may only continue at the end of a non-empty file: opened lazily on the first
  // write, which must start there.
  return Status::Ok();
}

void Create(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
            struct fuse_file_info* fi) {
  Mount* m = M(req);
  std::string dir;
  if (!PathOf(req, parent, &dir)) return;
  if (m->options.read_only) return (void)fuse_reply_err(req, EROFS);
  auto f = std::make_unique<OpenFile>();
  f->path = ChildPath(dir, name);
  f->writable = true;
  CreateOptions o;
  o.mode = mode & 07777 & ~fuse_req_ctx(req)->umask;
  auto out = m->fs->Create(f->path, o);
  if (!out.ok()) return ReplyError(req, "create", f->path, out.status());
  f->out = std::move(*out);
  struct fuse_entry_param e;
  if (fuse_req_ctx(req)->uid != getuid()) {
    ChownToCaller(req, f->path);
    Status s;
    if (!MakeEntry(m, f->path, &e, &s)) return ReplyError(req, "create", f->path, s);
  } else {
    memset(&e, 0, sizeof e);
    e.ino = f->out->status().inode_id();
    e.attr_timeout = m->options.attr_timeout;
    e.entry_timeout = m->options.entry_timeout;
    FillAttr(f->out->status(), &e.attr);
    m->inodes.Ref(e.ino, f->path);
  }
  fi->fh = reinterpret_cast<uint64_t>(f.release());
  fuse_reply_create(req, &e, fi);
}

void Open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  Mount* m = M(req);
  auto f = std::make_unique<OpenFile>();
  if (!PathOf(req, ino, &f->path)) return;
  int acc = fi->flags & O_ACCMODE;
  if (acc != O_RDONLY) {
    if (m->options.read_only) return (void)fuse_reply_err(req, EROFS);
    auto st = m->fs->GetFileStatus(f->path);
    if (!st.ok()) return ReplyError(req, "open", f->path, st.status());
    Status s = OpenForWriting(m, f.get(), fi->flags, &*st);
    if (!s.ok()) return ReplyError(req, "open", f->path, s);
  }
  fi->fh = reinterpret_cast<uint64_t>(f.release());
  fuse_reply_open(req, fi);
}

void Read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, struct fuse_file_info* fi) {
  Mount* m = M(req);
  OpenFile* f = FileOf(fi);
  std::shared_ptr<ReadAhead> in;
  std::string path;
  {
    std::lock_guard<std::mutex> l(f->mu);
    if (!f->in) {
      auto opened = m->fs->Open(f->path);
      if (!opened.ok()) return ReplyError(req, "read", f->path, opened.status());
      f->in = std::make_shared<ReadAhead>(std::move(*opened));
    }
    in = f->in;
    path = f->path;
  }
  auto data = in->Read(static_cast<uint64_t>(off), size);
  if (!data.ok()) return ReplyError(req, "read", path, data.status());
  fuse_reply_buf(req, data->bytes.data(), data->bytes.size());
  // The kernel may release the file as soon as it has the reply; `in` stays alive.
  in->FetchAhead();
}

void Write(fuse_req_t req, fuse_ino_t, const char* data, size_t size, off_t off,
           struct fuse_file_info* fi) {
  Mount* m = M(req);
  OpenFile* f = FileOf(fi);
  std::lock_guard<std::mutex> l(f->mu);
  if (!f->writable) return (void)fuse_reply_err(req, EBADF);
  if (f->closed) {
    // Completed by an earlier flush (close of a dup'ed descriptor): continue by appending.
    f->out.reset();
    f->closed = false;
    f->replace_on_close.clear();
  }
  if (!f->out) {
    auto st = m->fs->GetFileStatus(f->path);
    if (!st.ok()) return ReplyError(req, "write", f->path, st.status());
    if (static_cast<uint64_t>(off) != st->length()) return (void)fuse_reply_err(req, EOPNOTSUPP);
    auto out = m->fs->Append(f->path);
    if (!out.ok()) return ReplyError(req, "write", f->path, out.status());
    f->out = std::move(*out);
  }
  if (static_cast<uint64_t>(off) != f->out->position() && !(fi->flags & O_APPEND)) {
    return (void)fuse_reply_err(req, EOPNOTSUPP);
  }
  Status s = f->out->Write(data, size);
  if (!s.ok()) return ReplyError(req, "write", f->path, s);
  fuse_reply_write(req, size);
}

void Flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info* fi) {
  Mount* m = M(req);
  OpenFile* f = FileOf(fi);
  std::lock_guard<std::mutex> l(f->mu);
  // close(2) reports write errors, so the file is completed here, not in release.
  Status s = CloseForWriting(m, f);
  if (!s.ok()) return ReplyError(req, "close", f->path, s);
  if (f->out) fuse_lowlevel_notify_inval_inode(m->session, ino, 0, 0);
  fuse_reply_err(req, 0);
}

void Release(fuse_req_t req, fuse_ino_t, struct fuse_file_info* fi) {
  OpenFile* f = FileOf(fi);
  {
    std::lock_guard<std::mutex> l(f->mu);
    Status s = CloseForWriting(M(req), f);
    if (!s.ok()) spdlog::warn("release {}: {}", f->path, s.ToString());
    if (f->in) f->in->Close();
  }
  delete f;
  fuse_reply_err(req, 0);
}

void Fsync(fuse_req_t req, fuse_ino_t, int, struct fuse_file_info* fi) {
  OpenFile* f = FileOf(fi);
  std::lock_guard<std::mutex> l(f->mu);
  Status s = f->out && !f->closed ? f->out->Sync() : Status::Ok();
  if (!s.ok()) return ReplyError(req, "fsync", f->path, s);
  fuse_reply_err(req, 0);
}

void StatFs(fuse_req_t req, fuse_ino_t) {
  auto st = M(req)->fs->GetStats();
  if (!st.ok()) return ReplyError(req, "statfs", "/", st.status());
  struct statvfs v;
  memset(&v, 0, sizeof v);
  v.f_bsize = v.f_frsize = 4096;
  v.f_blocks = st->capacity() / 4096;
  v.f_bfree = v.f_bavail = st->remaining() / 4096;
  v.f_files = st->files() + st->directories();
  v.f_ffree = v.f_favail = 1ull << 32;
  v.f_namemax = 255;
  fuse_reply_statfs(req, &v);
}

void Access(fuse_req_t req, fuse_ino_t ino, int mask) {
  std::string path;
  if (!PathOf(req, ino, &path)) return;
  auto st = M(req)->fs->GetFileStatus(path);
  if (!st.ok()) return ReplyError(req, "access", path, st.status());
  const struct fuse_ctx* ctx = fuse_req_ctx(req);
  if (mask == F_OK || ctx->uid == 0) return (void)fuse_reply_err(req, 0);
  if ((mask & W_OK) && M(req)->options.read_only) return (void)fuse_reply_err(req, EROFS);
  uint32_t bits = st->mode() & 07;
  if (UidOf(st->owner()) == ctx->uid) bits = (st->mode() >> 6) & 07;
  else if (GidOf(st->group()) == ctx->gid) bits = (st->mode() >> 3) & 07;
  fuse_reply_err(req, (static_cast<uint32_t>(mask) & ~bits) ? EACCES : 0);
}

void Init(void* userdata, struct fuse_conn_info* conn) {
  conn->max_write = 1 << 20;
  conn->max_readahead = 4 << 20;
  if (conn->capable & FUSE_CAP_READDIRPLUS) conn->want |= FUSE_CAP_READDIRPLUS;
}

const struct fuse_lowlevel_ops kOps = [] {
  struct fuse_lowlevel_ops ops;
  memset(&ops, 0, sizeof ops);
  ops.init = Init;
  ops.lookup = Lookup;
  ops.forget = Forget;
  ops.forget_multi = ForgetMulti;
  ops.getattr = GetAttr;
  ops.setattr = SetAttr;
  ops.mkdir = MkDir;
  ops.unlink = Unlink;
  ops.rmdir = RmDir;
  ops.rename = Rename;
  ops.opendir = OpenDir;
  ops.readdir = ReadDir;
  ops.readdirplus = ReadDirPlus;
  ops.releasedir = ReleaseDir;
  ops.create = Create;
  ops.open = Open;
  ops.read = Read;
  ops.write = Write;
  ops.flush = Flush;
  ops.release = Release;
  ops.fsync = Fsync;
  ops.statfs = StatFs;
  ops.access = Access;
  return ops;
}();

}  // namespace

const struct fuse_lowlevel_ops* DfsFuseOperations() { return &kOps; }

}  // namespace dfs
