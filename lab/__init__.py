"""Research code the application never imports: the corpus readers (`datasets`), the measurements
(`evaluation`), the offline peer (`peer`) and the `modassist-lab` commands that measure the detectors and
fit the shipped models (`cli`, `commands`); the short-thread dev set and the word-vector and sentence-model
builds."""
