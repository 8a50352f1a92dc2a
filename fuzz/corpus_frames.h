// fuzz/corpus_frames.h
//
// The request seeds of frame_fuzz (make_corpus.cc writes them): one file per member
// of the native protocol's Request union (net/attrib.capnp), named after the member,
// plus pipelined streams. corpus_coverage_test.cc checks that the checked-in corpus
// has a seed for every member, so a new request cannot be forgotten here.
//
// Thread-safety: single-threaded (the corpus generator).
#ifndef ATTRIB_FUZZ_CORPUS_FRAMES_H_
#define ATTRIB_FUZZ_CORPUS_FRAMES_H_

#include <string>

namespace attrib::fuzz {

// Writes the frame_fuzz seeds into `dir` (fuzz/corpus/frame_fuzz); exits the program
// with a message on a write error.
void WriteFrameSeeds(const std::string& dir);

// Writes `bytes` to `path` (binary, truncating); exits with a message on failure.
void WriteSeedFile(const std::string& path, const std::string& bytes);

}  // namespace attrib::fuzz

#endif  // ATTRIB_FUZZ_CORPUS_FRAMES_H_
