#include "virtdriver/rollback.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace ova2virt {

Transaction::~Transaction() {
  if (steps_.empty()) return;
  Status s = Rollback();
  if (!s.ok() && diags_) diags_->Warn("rollback.leftover", "", s.message());
}

void Transaction::Journal(const JournalEntry& entry) {
  if (journal_ == nullptr) return;
  Status s = journal_->Add(entry);
  if (!s.ok() && journal_status_.ok()) {
    journal_status_ = s.WithContext("import journal");
  }
}

void Transaction::JournalUnlessAhead(const Step& step,
                                     const JournalEntry& entry) {
  auto same = [&](const Step& s) {
    return s.kind == step.kind && s.a == step.a && s.b == step.b;
  };
  if (std::any_of(journaled_ahead_.begin(), journaled_ahead_.end(), same)) {
    return;  // already in the journal
  }
  Journal(entry);
}

void Transaction::JournalVolumeAhead(const std::string& pool,
                                     const std::string& name) {
  journaled_ahead_.push_back({Step::kVolume, pool, name});
  Journal({JournalEntry::Kind::kVolume, pool, name});
}

void Transaction::AddVolume(const std::string& pool, const std::string& name) {
  steps_.push_back({Step::kVolume, pool, name});
  JournalUnlessAhead(steps_.back(), {JournalEntry::Kind::kVolume, pool, name});
}

void Transaction::AddFile(const std::string& path) {
  steps_.push_back({Step::kFile, path, ""});
  Journal({JournalEntry::Kind::kFile, path, ""});
}

void Transaction::JournalDomainAhead(const std::string& name) {
  journaled_ahead_.push_back({Step::kDomain, name, ""});
  Journal({JournalEntry::Kind::kDomain, name, ""});
}

void Transaction::AddDomain(const std::string& name) {
  steps_.push_back({Step::kDomain, name, ""});
  JournalUnlessAhead(steps_.back(), {JournalEntry::Kind::kDomain, name, ""});
}

void Transaction::NoteTemporary(const std::string& path) {
  Journal({JournalEntry::Kind::kTemp, path, ""});
}

void Transaction::Commit() {
  steps_.clear();
  if (journal_ == nullptr) return;
  // The commit mark first: should the file outlive us, a cleaner must not
  // take what it lists for leftovers.
  Status s = journal_->MarkCommitted();
  Status r = journal_->Remove();
  if (!s.ok() || !r.ok()) {
    journal_status_ = (r.ok() ? s : r).WithContext("import journal");
  }
}

Status Transaction::Undo(const Step& step) {
  switch (step.kind) {
    case Step::kVolume: {
      Status s = conn_.DeleteVolume(step.a, step.b);
      // Already gone is what we wanted.
      return s.code() == ErrorCode::kNotFound ? OkStatus() : s;
    }
    case Step::kFile:
      if (unlink(step.a.c_str()) != 0 && errno != ENOENT) {
        return ErrnoError(step.a, errno);
      }
      return OkStatus();
    case Step::kDomain: {
      Status s = conn_.DestroyDomain(step.a);
      if (!s.ok() && s.code() != ErrorCode::kNotFound) return s;
      return conn_.UndefineDomain(step.a);
    }
  }
  return OkStatus();
}

Status Transaction::Rollback() {
  std::vector<std::string> left;
  for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
    Status s = Undo(*it);
    if (!s.ok()) left.push_back(s.message());
  }
  steps_.clear();
  if (left.empty()) {
    if (journal_ != nullptr) journal_->Remove().IgnoreError();
    return OkStatus();
  }
  std::string msg =
      "rollback left " + std::to_string(left.size()) + " item(s) behind: ";
  for (size_t i = 0; i < left.size(); ++i) {
    msg += (i ? "; " : "") + left[i];
  }
  return FailedError(msg);
}

}  // namespace ova2virt
