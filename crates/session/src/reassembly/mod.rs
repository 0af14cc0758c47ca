//! TCP reassembly, per direction. (In progress.)
